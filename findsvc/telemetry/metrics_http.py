"""The /metrics HTTP server: a few threads, and a connection that sends nothing is dropped.

prometheus-client's own server starts a thread for every connection and reads without a
timeout, so 50 idle connections hold 50 threads for as long as they stay open. Here a
connection gets one of SERVING_THREADS threads or is closed at once, and a request not read
within READ_TIMEOUT_S ends. Prometheus scrapes over one connection at a time; the
NetworkPolicy admits nobody else.
"""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

SERVING_THREADS = 4
READ_TIMEOUT_S = 5.0


class _Handler(WSGIRequestHandler):
    timeout = READ_TIMEOUT_S  # applied to the connection's socket before the first read

    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged."""


class _BoundedServer(WSGIServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before binding: a failed bind calls server_close().
        self._slots = threading.BoundedSemaphore(SERVING_THREADS)
        self._threads = ThreadPoolExecutor(SERVING_THREADS, thread_name_prefix="metrics")
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # every thread busy: this connection is closed
            return
        self._threads.submit(self._serve, request, client_address)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001, S110 - a client that timed out or left: nothing to tell
            pass
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def server_close(self) -> None:
        super().server_close()
        self._threads.shutdown(wait=False)


def start_metrics_http(registry: CollectorRegistry, host: str, port: int) -> WSGIServer:
    """Serves in a daemon thread; raises OSError when the address cannot be bound."""
    family, address = _family_of(host, port)
    server_class = type("MetricsServer", (_BoundedServer,), {"address_family": family})
    server: WSGIServer = make_server(address, port, make_wsgi_app(registry), server_class, _Handler)
    threading.Thread(target=server.serve_forever, name="metrics-accept", daemon=True).start()
    return server


def _family_of(host: str, port: int) -> tuple[socket.AddressFamily, str]:
    # The address family the host names ([::] is IPv6), as prometheus-client picks it.
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, sockaddr = infos[0]
    return family, str(sockaddr[0])
