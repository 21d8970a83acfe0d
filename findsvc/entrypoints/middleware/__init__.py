"""Per-call middleware: the interceptors that see each call (the observer, token auth, the
call limits). They may import `config`, `contract`, `domain`, `entrypoints.file_watch`,
`entrypoints.wrap_once` and (for types only) `telemetry`; never the servicer, the server, the
runtime or an adapter."""
