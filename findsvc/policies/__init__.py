"""Policies over the repository port: the circuit breaker, request coalescing and the cache.
Each wraps any `CheckedRepository` and is one itself; they import `findsvc.domain` only, and
report to observer Protocols of their own."""
