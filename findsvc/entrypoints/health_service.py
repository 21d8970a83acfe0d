"""The health service, keeping nothing for names it does not serve.

grpcio-health-checking's servicer keeps a set of watchers for every name ever watched, even
after the streams end, so made-up names grow the server's memory. Here a `Watch` for a name
that was never `set` answers SERVICE_UNKNOWN, as the health protocol says, and stays open
until the caller leaves, without registering anything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2

SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


class HealthService(health.HealthServicer):
    def __init__(self) -> None:
        # Blocking: a stream holds a thread of its lane (call_lanes.py), whose size is the cap.
        super().__init__(experimental_non_blocking=False)
        self._served = frozenset({""})
        self._served_lock = threading.Lock()

    def set(self, service: str, status: Any) -> None:
        with self._served_lock:
            self._served |= {service}
        super().set(service, status)

    def Watch(
        self,
        request: health_pb2.HealthCheckRequest,
        context: grpc.ServicerContext,
        send_response_callback: Any = None,
    ) -> Any:
        if request.service in self._served:
            return super().Watch(request, context, send_response_callback)
        return _unknown_until_gone(context)


def _unknown_until_gone(context: grpc.ServicerContext) -> Iterator[health_pb2.HealthCheckResponse]:
    gone = threading.Event()
    if not context.add_callback(gone.set):
        return  # the call has already ended
    yield health_pb2.HealthCheckResponse(status=SERVICE_UNKNOWN)
    gone.wait()
