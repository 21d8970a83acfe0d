"""What findsvc.client retries: the statuses a server gives a call it never handled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from findsvc.client import DeadlineExceededError, FindClient, ServiceUnavailableError
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.calls import KRISHNA_PHONE


class FailingFirst(find_service_pb2_grpc.FindServiceServicer):
    """Answers the first `failures` calls with `code`, and the ones after them with a record."""

    def __init__(self, code: grpc.StatusCode, failures: int = 1) -> None:
        self.code = code
        self.failures = failures
        self.calls = 0

    def FindUser(
        self, request: find_service_pb2.FindUserRequest, context: grpc.ServicerContext
    ) -> find_service_pb2.UserRecord:
        self.calls += 1
        if self.calls <= self.failures:
            context.abort(self.code, "as a stopping or overloaded server would")
        return find_service_pb2.UserRecord(name=request.name, phone=KRISHNA_PHONE)


@pytest.fixture
def serve() -> Iterator[Callable[[FailingFirst], str]]:
    servers: list[grpc.Server] = []

    def start(servicer: FailingFirst) -> str:
        server = grpc.server(ThreadPoolExecutor(2))
        find_service_pb2_grpc.add_FindServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop(0)


class TestRetries:
    @pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED])
    def test_a_call_the_server_refused_or_cancelled_is_retried(
        self, serve: Callable[[FailingFirst], str], code: grpc.StatusCode
    ) -> None:
        servicer = FailingFirst(code)
        with FindClient(serve(servicer)) as client:
            assert client.find("KrishnaMohan").phone == KRISHNA_PHONE
        assert servicer.calls == 2

    def test_a_deadline_exceeded_is_not_retried(self, serve: Callable[[FailingFirst], str]) -> None:
        servicer = FailingFirst(grpc.StatusCode.DEADLINE_EXCEEDED)
        with (
            FindClient(serve(servicer)) as client,
            pytest.raises(DeadlineExceededError),
        ):
            client.find("KrishnaMohan")
        assert servicer.calls == 1

    def test_retries_stop_while_most_calls_fail_so_they_cannot_multiply_an_overload(
        self, serve: Callable[[FailingFirst], str]
    ) -> None:
        calls = 40
        servicer = FailingFirst(grpc.StatusCode.UNAVAILABLE, failures=10**6)
        with FindClient(serve(servicer)) as client:
            for _ in range(calls):
                with pytest.raises(ServiceUnavailableError):
                    client.find("KrishnaMohan")
        # Unthrottled, each call would be tried 3 times (120 attempts).
        assert servicer.calls < calls * 1.5
