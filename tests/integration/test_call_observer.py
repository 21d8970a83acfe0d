"""The call observer on a real gRPC server: the codes a servicer never sets itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from prometheus_client import CollectorRegistry

from findsvc.entrypoints.callers import UNAUTHENTICATED
from findsvc.entrypoints.middleware.call_observer import CallObserver
from findsvc.telemetry.metrics import Metrics


def wait_until_gone(_request: bytes, context: grpc.ServicerContext) -> bytes:
    deadline = time.monotonic() + 5
    while context.is_active() and time.monotonic() < deadline:
        time.sleep(0.01)
    return b""


def crash(_request: bytes, _context: grpc.ServicerContext) -> bytes:
    raise RuntimeError("a bug")


def count_to_three(_request: bytes, _context: grpc.ServicerContext) -> Iterator[bytes]:
    yield from (b"1", b"2", b"3")


HANDLERS = {
    "Slow": grpc.unary_unary_rpc_method_handler(wait_until_gone),
    "Crash": grpc.unary_unary_rpc_method_handler(crash),
    "Count": grpc.unary_stream_rpc_method_handler(count_to_three),
}


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
def channel(metrics: Metrics) -> Iterator[grpc.Channel]:
    server = grpc.server(ThreadPoolExecutor(max_workers=4), interceptors=[CallObserver(metrics)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.Probe", HANDLERS),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    server.stop(None)


def handled(metrics: Metrics, method: str, code: str, grpc_type: str = "unary") -> float:
    labels = {"grpc_type": grpc_type, "grpc_method": method, "grpc_code": code}
    return counted(metrics, "grpc_server_handled_total", labels)


def counted(metrics: Metrics, name: str, labels: dict[str, str]) -> float:
    """The sample once it is counted; the server side may finish just after the client."""
    # no token auth in this chain: every call is unauthenticated
    labels = {"grpc_type": "unary", "grpc_service": "t.Probe", "caller": UNAUTHENTICATED, **labels}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = metrics.registry.get_sample_value(name, labels)
        if found:
            return found
        time.sleep(0.01)
    return 0.0


class TestFinalCode:
    def test_a_call_past_its_deadline_is_deadline_exceeded(
        self, metrics: Metrics, channel: grpc.Channel
    ) -> None:
        with pytest.raises(grpc.RpcError):
            channel.unary_unary("/t.Probe/Slow")(b"", timeout=0.2)
        assert handled(metrics, "Slow", "DEADLINE_EXCEEDED") == 1

    def test_a_call_the_client_cancels_is_cancelled(
        self, metrics: Metrics, channel: grpc.Channel
    ) -> None:
        future = channel.unary_unary("/t.Probe/Slow").future(b"")
        assert counted(metrics, "grpc_server_started_total", {"grpc_method": "Slow"}) == 1
        future.cancel()
        assert handled(metrics, "Slow", "CANCELLED") == 1

    def test_an_escaping_exception_is_unknown(
        self, metrics: Metrics, channel: grpc.Channel
    ) -> None:
        with pytest.raises(grpc.RpcError) as raised:
            channel.unary_unary("/t.Probe/Crash")(b"", timeout=5)
        assert raised.value.code() == grpc.StatusCode.UNKNOWN
        assert handled(metrics, "Crash", "UNKNOWN") == 1

    def test_a_server_stream_is_counted_once_when_it_ends(
        self, metrics: Metrics, channel: grpc.Channel
    ) -> None:
        assert list(channel.unary_stream("/t.Probe/Count")(b"", timeout=5)) == [b"1", b"2", b"3"]
        assert handled(metrics, "Count", "OK", grpc_type="server_stream") == 1
