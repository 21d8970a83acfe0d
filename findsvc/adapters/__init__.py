"""The repository port on real stores and the wrappers around it: MySQL through PyMySQL
(its pool, errors, TLS and grants), the embedded SQLite, and the circuit breaker, request
coalescing and cache, which wrap any repository. Adapters take plain values (a
`MySqlTarget`, an `ssl.SSLContext`, numbers) and report to observer Protocols of their own;
they import `findsvc.domain` only: never `findsvc.config`, telemetry or gRPC."""
