"""The edges of the process: the `findsvc` command (`cli`), and the gRPC server's parts: its
lifecycle (`grpc_server`: start, drain, stop), TLS (`tls`), its servicer, health and
readiness, and what runs on every call (`chain.py`: the per-call `middleware/` and the
server's `runtime/`). Entrypoints may import everything below them (`domain`,
`service_layer`, `adapters`, `policies`, `telemetry`, `process`, `config`, `contract`); the
composition root (`findsvc.bootstrap`) wires the parts, and only `cli` imports it."""
