"""What findsvc.client retries: the statuses a server gives a call it never handled."""

from __future__ import annotations

import threading
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


class RefusingEachNameOnce(find_service_pb2_grpc.FindServiceServicer):
    """Refuses the first call for each name with UNAVAILABLE, as a stopping server refuses
    the calls that reach it after its drain, and answers the retries."""

    def __init__(self) -> None:
        self.refused: set[str] = set()
        self._lock = threading.Lock()

    def FindUser(
        self, request: find_service_pb2.FindUserRequest, context: grpc.ServicerContext
    ) -> find_service_pb2.UserRecord:
        with self._lock:
            first = request.name not in self.refused
            self.refused.add(request.name)
        if first:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the server is shutting down; retry")
        return find_service_pb2.UserRecord(name=request.name, phone=KRISHNA_PHONE)


@pytest.fixture
def serve() -> Iterator[Callable[[find_service_pb2_grpc.FindServiceServicer], str]]:
    servers: list[grpc.Server] = []

    def start(servicer: find_service_pb2_grpc.FindServiceServicer) -> str:
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

    def test_a_burst_of_refusals_from_a_stopping_server_is_retried_in_full(
        self, serve: Callable[[RefusingEachNameOnce], str]
    ) -> None:
        # A pod that stops under load refuses the calls of every caller at once: 32 callers,
        # 32 refusals within milliseconds. A rolling restart must not fail one of them.
        servicer = RefusingEachNameOnce()
        names = [f"Caller{i}" for i in range(32)]
        with FindClient(serve(servicer)) as client, ThreadPoolExecutor(len(names)) as callers:
            records = list(callers.map(client.find, names))
        assert [record.name for record in records] == names
        assert servicer.refused == set(names)

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
        calls = 200
        servicer = FailingFirst(grpc.StatusCode.UNAVAILABLE, failures=10**6)
        with FindClient(serve(servicer)) as client:
            for call in range(calls):
                if call == calls // 2:
                    attempts_at_half = servicer.calls
                with pytest.raises(ServiceUnavailableError):
                    client.find("KrishnaMohan")
        # Unthrottled, each call would be tried 3 times (600 attempts). The bucket allows the
        # retries of about 50 failures, then none: the second half is tried once a call.
        assert servicer.calls < calls * 1.5
        assert servicer.calls - attempts_at_half == calls // 2
