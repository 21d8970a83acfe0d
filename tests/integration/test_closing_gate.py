"""ClosingGate on a real gRPC server: after close(), new calls of its service are refused with
UNAVAILABLE at once, other services are still served, and admitted calls are counted out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import grpc
import pytest

from findsvc.entrypoints.runtime.closing_gate import ClosingGate

GATED = "test.Gated"
OTHER = "test.Other"


@dataclass
class Held:
    """The gated method holds each call until `release` is set."""

    entered: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    release: threading.Event = field(default_factory=threading.Event)

    def behaviour(self, request: bytes, _context: grpc.ServicerContext) -> bytes:
        self.entered.release()
        self.release.wait(10)
        return request


@dataclass
class Gate:
    gate: ClosingGate
    held: Held
    channel: grpc.Channel

    def call(self, service: str, timeout_s: float = 10) -> grpc.StatusCode:
        method = self.channel.unary_unary(f"/{service}/Echo")
        try:
            method(b"ping", timeout=timeout_s)
        except grpc.RpcError as error:
            return error.code()  # type: ignore[no-any-return]
        return grpc.StatusCode.OK


@pytest.fixture
def served() -> Iterator[Gate]:
    held = Held()
    held.release.set()
    gate = ClosingGate(GATED)
    server = grpc.server(ThreadPoolExecutor(max_workers=4), interceptors=[gate])
    for service in (GATED, OTHER):
        echo = grpc.unary_unary_rpc_method_handler(held.behaviour)
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, {"Echo": echo}),)
        )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield Gate(gate, held, channel)
    held.release.set()
    server.stop(None)


class TestClosingGate:
    def test_lets_calls_through_while_open(self, served: Gate) -> None:
        assert served.call(GATED) == grpc.StatusCode.OK

    def test_refuses_new_calls_of_its_service_once_closed(self, served: Gate) -> None:
        served.gate.close()
        assert served.call(GATED) == grpc.StatusCode.UNAVAILABLE
        assert served.held.entered.acquire(timeout=0) is False  # refused before the servicer

    def test_still_serves_other_services_once_closed(self, served: Gate) -> None:
        served.gate.close()
        assert served.call(OTHER) == grpc.StatusCode.OK

    def test_counts_admitted_calls_until_they_end(self, served: Gate) -> None:
        served.held.release.clear()
        codes: list[grpc.StatusCode] = []
        caller = threading.Thread(target=lambda: codes.append(served.call(GATED)))
        caller.start()
        assert served.held.entered.acquire(timeout=10)
        served.gate.close()
        assert served.gate.wait_idle(0.05) == 1  # still running: the grace would cut it
        served.held.release.set()
        assert served.gate.wait_idle(10) == 0
        caller.join(10)
        assert codes == [grpc.StatusCode.OK]

    def test_with_no_call_admitted_is_idle_at_once(self, served: Gate) -> None:
        served.gate.close()
        assert served.gate.wait_idle(0) == 0
