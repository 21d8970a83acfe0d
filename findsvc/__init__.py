"""findsvc: the Find service of the user-management system.

Layers, each importing only those before it: `domain` (pure), `service_layer` (use cases),
`adapters` (stores and their wrappers), `telemetry`, `process` and `entrypoints` (the gRPC
edge and the CLI). Beside them: `config` (Settings, read once), `cpu_budget` (for
`--processes auto`), `contract` (service names from the generated descriptors), `client`
(the typed client) and `bootstrap`, the one composition root.
"""
