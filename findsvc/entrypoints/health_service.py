"""The health service: nothing kept for names it does not serve, and a few streams a connection.

grpcio-health-checking's servicer keeps a set of watchers for every name ever watched, even
after the streams end, so made-up names grow the server's memory. Here a `Watch` for a name
that was never `set` answers SERVICE_UNKNOWN, as the health protocol says, and stays open
until the caller leaves, without registering anything.

A client with client-side health checking holds one `Watch` per connection and health service
name for as long as the connection lives; a server with hundreds of callers' connections holds
hundreds of them. What keeps one client from taking them all is a limit per connection
(`context.peer()` is the connection's address): past WATCHES_PER_CONNECTION open streams, the
connection's next `Watch` gets RESOURCE_EXHAUSTED, and no other connection notices.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2

SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
# A client watches one name per connection (gRPC's client-side health checking), a kubelet or
# a person a few more: "", FindService's name and "liveness" are all findsvc serves.
WATCHES_PER_CONNECTION = 4


class StreamsPerConnection:
    """Open streams by connection; an entry lives only while its connection has one open."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def admit(self, connection: str) -> bool:
        with self._lock:
            if self._open[connection] >= self.limit:
                return False
            self._open[connection] += 1
            return True

    def release(self, connection: str) -> None:
        with self._lock:
            self._open[connection] -= 1
            if self._open[connection] <= 0:
                del self._open[connection]

    def connections(self) -> int:
        with self._lock:
            return len(self._open)


class HealthService(health.HealthServicer):
    def __init__(self, watches_per_connection: int = WATCHES_PER_CONNECTION) -> None:
        # Blocking: a stream holds a thread of its lane (call_lanes.py), whose size is the cap.
        super().__init__(experimental_non_blocking=False)
        self._served = frozenset({""})
        self._served_lock = threading.Lock()
        self.watches = StreamsPerConnection(watches_per_connection)

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
        connection = context.peer()
        if not self.watches.admit(connection):
            context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"more than {self.watches.limit} health Watch streams on one connection",
            )
        if not context.add_callback(lambda: self.watches.release(connection)):
            self.watches.release(connection)
            return iter(())  # the call has already ended
        if request.service in self._served:
            return super().Watch(request, context, send_response_callback)
        return _unknown_until_gone(context)


def _unknown_until_gone(context: grpc.ServicerContext) -> Iterator[health_pb2.HealthCheckResponse]:
    gone = threading.Event()
    if not context.add_callback(gone.set):
        return  # the call has already ended
    yield health_pb2.HealthCheckResponse(status=SERVICE_UNKNOWN)
    gone.wait()
