"""The server process and its siblings: the supervisor that forks `--processes N` servers,
what a child does to die with it (`child_process`), and CPU pinning. Imports `config` and
`telemetry` (lazily: prometheus-client after the fork); knows nothing of gRPC."""
