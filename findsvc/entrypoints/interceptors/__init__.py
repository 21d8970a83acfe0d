"""The gRPC server interceptors, one a module, and `chain.py`: the one list that says what
runs on every call, in what order. They may import `config`, `contract`, `domain`,
`entrypoints.file_watch` and (for types only) `telemetry`; never the servicer, the server
or an adapter."""
