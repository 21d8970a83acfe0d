"""The edges of the process: the `findsvc` command (`cli`), and the gRPC server (`grpc_server`:
how it serves, listens with TLS (`tls`) and stops), its servicer, health and readiness, and
in `interceptors/` what runs on every call. Entrypoints may import everything below them
(`domain`, `service_layer`, `adapters`, `telemetry`, `process`, `config`, `contract`); only
`bootstrap` and `cli` wire adapters together."""
