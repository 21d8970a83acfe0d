"""Metrics and tracing, built from Settings; /metrics served beside the server."""

from __future__ import annotations

import logging
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry

from findsvc.config import Settings
from findsvc.telemetry.metrics import Metrics, serve_metrics
from findsvc.telemetry.tracing import tracing_interceptors

log = logging.getLogger(__name__)


class Telemetry:
    """Raises ConfigError when tracing is asked for but its extra is not installed.

    The call chain (entrypoints/chain.py) puts `tracing` and a call observer
    on `metrics` on every call.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.metrics = Metrics(CollectorRegistry())
        self.tracing, self._flush_traces = tracing_interceptors(settings.tracing)
        self._http: WSGIServer | None = None

    def start(self) -> int:
        """Serves /metrics; returns its port. Raises ConfigError when the port is taken."""
        self._http = serve_metrics(
            self.metrics.registry, self._settings.host, self._settings.metrics_port
        )
        port = self._http.server_port
        log.info("metrics on port %d at /metrics", port, extra={"metrics_port": port})
        return port

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        self._flush_traces()
