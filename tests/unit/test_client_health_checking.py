"""findsvc.client picks only servers whose readiness says SERVING (client-side health checking)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from findsvc.client import FindClient
from findsvc.contract import FIND_SERVICE_NAME
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.load import wait_for

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class NamedServer(find_service_pb2_grpc.FindServiceServicer):
    """Answers every call with its own name as the phone number, so a caller sees who answered."""

    def __init__(self, number: int) -> None:
        self.number = number

    def FindUser(
        self, request: find_service_pb2.FindUserRequest, context: grpc.ServicerContext
    ) -> find_service_pb2.UserRecord:
        return find_service_pb2.UserRecord(name=request.name, phone=self.number)


Serve = Callable[[int], tuple[str, health.HealthServicer]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[grpc.Server] = []

    def start(number: int) -> tuple[str, health.HealthServicer]:
        server = grpc.server(ThreadPoolExecutor(4))
        find_service_pb2_grpc.add_FindServiceServicer_to_server(NamedServer(number), server)
        readiness = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(readiness, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}", readiness

    yield start
    for server in servers:
        server.stop(0)


def answered_by(client: FindClient, calls: int) -> set[int]:
    return {client.find(f"Caller{i}").phone for i in range(calls)}


class TestClientSideHealthChecking:
    def test_a_server_whose_findservice_readiness_is_not_serving_gets_no_call(
        self, serve: Serve
    ) -> None:
        ready, ready_health = serve(1)
        draining, draining_health = serve(2)
        ready_health.set(FIND_SERVICE_NAME, SERVING)
        draining_health.set(FIND_SERVICE_NAME, NOT_SERVING)
        with FindClient(f"ipv4:{ready},{draining}") as client:
            assert answered_by(client, 40) == {1}

    def test_a_server_that_turns_not_serving_stops_getting_calls_and_gets_them_back(
        self, serve: Serve
    ) -> None:
        first, first_health = serve(1)
        second, second_health = serve(2)
        for readiness in (first_health, second_health):
            readiness.set(FIND_SERVICE_NAME, SERVING)
        with FindClient(f"ipv4:{first},{second}") as client:
            assert answered_by(client, 40) == {1, 2}  # the positive marker: both are picked
            second_health.set(FIND_SERVICE_NAME, NOT_SERVING)
            wait_for(lambda: answered_by(client, 40) == {1}, 10)
            assert answered_by(client, 200) == {1}
            second_health.set(FIND_SERVICE_NAME, SERVING)
            wait_for(lambda: answered_by(client, 40) == {1, 2}, 10)
