"""The kubelet's own port: health `Check` on a small gRPC server of its own.

On the main port a probe shares gRPC's one polling thread, the GIL and the connection limits
with every client: an open-loop flood of `Check` or FindUser from a few connections delays
it past its timeout, and the kubelet restarts a pod that was fine. Here the probe meets a
server no other client reaches (the NetworkPolicy leaves the port closed to other pods; the
kubelet probes from the node), with threads of its own, answering from the main server's
health state: the same verdict, never a second opinion.

Plaintext always: the kubelet's gRPC probe speaks no TLS. `Watch` is not served (the kubelet
never asks), so nothing a client does here holds a thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from findsvc.config import ConfigError, Settings

# The kubelet probes each name every few seconds on a fresh connection: two threads answer
# microsecond checks, and a few calls may wait; more are refused, as are more connections.
THREADS = 2
CALLS_AT_ONCE = 8
CONNECTIONS = 16
IDLE_CONNECTION_MS = 10_000


class _CheckOnly(health_pb2_grpc.HealthServicer):  # type: ignore[misc]  # untyped stubs
    def __init__(self, state: health.HealthServicer) -> None:
        self._state = state

    def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        return self._state.Check(request, context)


class HealthPort:
    """Serves `Check` from `state` on FINDSVC_HEALTH_PORT; `port` is the one bound."""

    def __init__(self, settings: Settings, state: health.HealthServicer) -> None:
        assert settings.health_port is not None
        self._server = grpc.server(
            ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="health-port"),
            maximum_concurrent_rpcs=CALLS_AT_ONCE,
            options=[
                ("grpc.max_concurrent_streams", CALLS_AT_ONCE),
                ("grpc.max_allowed_incoming_connections", CONNECTIONS),
                ("grpc.max_connection_idle_ms", IDLE_CONNECTION_MS),
                ("grpc.so_reuseport", int(settings.processes > 1)),
            ],
        )
        health_pb2_grpc.add_HealthServicer_to_server(_CheckOnly(state), self._server)
        address = f"{settings.host}:{settings.health_port}"
        try:
            self.port = self._server.add_insecure_port(address)
        except RuntimeError:
            raise ConfigError(f"cannot serve health on port {settings.health_port}") from None

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=None)
