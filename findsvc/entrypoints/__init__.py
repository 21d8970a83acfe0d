"""The edges of the process: the `findsvc` command (`cli`), and the gRPC server (`grpc_server`:
how it serves, listens with TLS (`tls`) and stops), its servicer, health and readiness, and
what runs on every call (`chain.py`: the per-call `middleware/` and the server's `runtime/`).
Entrypoints may import everything below them (`domain`, `service_layer`, `adapters`,
`policies`, `telemetry`, `process`, `config`, `contract`); only `bootstrap` and `cli` wire
adapters together."""
