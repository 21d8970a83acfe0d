"""The health service on a real gRPC server: made-up names leave nothing behind."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from findsvc.entrypoints.health_service import HealthService
from tests.support.calls import SERVICE_UNKNOWN, SERVING
from tests.support.load import wait_for


@pytest.fixture
def health() -> Iterator[tuple[HealthService, health_pb2_grpc.HealthStub]]:
    service = HealthService()
    service.set("liveness", SERVING)
    # More threads than a connection may hold streams: a refused one still gets a thread.
    server = grpc.server(ThreadPoolExecutor(max_workers=8))
    health_pb2_grpc.add_HealthServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield service, health_pb2_grpc.HealthStub(channel)
    server.stop(None).wait()


def watch_once(stub: health_pb2_grpc.HealthStub, name: str) -> int:
    """The first status a Watch for `name` answers; then the caller leaves."""
    call = stub.Watch(health_pb2.HealthCheckRequest(service=name), timeout=5)
    try:
        return next(call).status  # type: ignore[no-any-return]
    finally:
        call.cancel()


def retained_by_the_health_modules() -> int:
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, "*grpc_health*"), tracemalloc.Filter(True, "*health_service*")]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


class TestWatch:
    def test_a_served_name_is_watched_as_before(
        self, health: tuple[HealthService, health_pb2_grpc.HealthStub]
    ) -> None:
        assert watch_once(health[1], "liveness") == SERVING

    def test_made_up_names_answer_service_unknown_and_leave_nothing_behind(
        self, health: tuple[HealthService, health_pb2_grpc.HealthStub]
    ) -> None:
        stub = health[1]
        tracemalloc.start()
        try:
            assert watch_once(stub, "warm-up") == SERVICE_UNKNOWN
            before = retained_by_the_health_modules()
            for i in range(500):
                assert watch_once(stub, f"made-up-{i}") == SERVICE_UNKNOWN
            # The stock servicer keeps a set per name: 500 names would hold ~100 KB.
            assert retained_by_the_health_modules() - before < 10_000
        finally:
            tracemalloc.stop()


class TestWatchesPerConnection:
    def test_streams_that_end_give_their_connection_room_again(
        self, health: tuple[HealthService, health_pb2_grpc.HealthStub]
    ) -> None:
        service, stub = health
        for _ in range(3):  # each round fills the connection's limit, then leaves
            assert [watch_once(stub, "liveness") for _ in range(service.watches.limit)] == [
                SERVING
            ] * service.watches.limit
        wait_for(lambda: service.watches.connections() == 0, 5)

    def test_a_connection_past_its_limit_is_refused_with_resource_exhausted(
        self, health: tuple[HealthService, health_pb2_grpc.HealthStub]
    ) -> None:
        service, stub = health
        request = health_pb2.HealthCheckRequest(service="liveness")
        open_calls = [stub.Watch(request, timeout=5) for _ in range(service.watches.limit)]
        try:
            assert [next(call).status for call in open_calls] == [SERVING] * len(open_calls)
            with pytest.raises(grpc.RpcError) as refused:
                next(stub.Watch(request, timeout=5))
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        finally:
            for call in open_calls:
                call.cancel()
