"""The repository port on real stores: MySQL through PyMySQL (`mysql/`: the repository, its
pool, errors, TLS target and grants) and the embedded SQLite, with the row and batch helpers
both share. Adapters take plain values (a `MySqlTarget`, an `ssl.SSLContext`, numbers) and
report to observer Protocols of their own; they import `findsvc.domain` only: never
`findsvc.config`, telemetry or gRPC."""
