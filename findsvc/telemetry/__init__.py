"""Metrics (Prometheus), tracing (OpenTelemetry, optional), JSON logs, and the `Telemetry`
object that holds them for one server process. Adapters see it only through their observer
Protocols. Imports `config` and third-party libraries only; prometheus-client must be first
imported after the supervisor forks, so nothing here is imported by this package itself."""
