"""The use cases: find one user, find many. Each takes plain values and a repository port,
returns domain objects or raises domain errors. Imports only `findsvc.domain`."""
