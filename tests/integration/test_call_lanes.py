"""A lane's admission: its cap of calls held, whether its queue stands, and whose call gives way."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import grpc
import pytest

from findsvc.entrypoints.runtime.call_lanes import OVER_CAP, CallLanes, Lane
from findsvc.entrypoints.runtime.standing_queue import StandingQueue

METHOD = "/test.Service/Method"


class CallDetails(NamedTuple):
    method: str
    invocation_metadata: Any


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def frees_up(lane: Lane) -> bool:
    """Whether the lane admits calls again within 5 s (a task's place is freed just after
    its future is done)."""
    deadline = time.monotonic() + 5
    while lane.full() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not lane.full()


class TestLane:
    def test_it_is_full_at_its_cap_of_calls_queued_or_running(
        self, release: threading.Event
    ) -> None:
        lane = Lane("test", threads=1, cap=3)
        futures = [lane.submit(release.wait) for _ in range(2)]
        assert not lane.full()
        futures.append(lane.submit(release.wait))
        assert lane.full()
        release.set()
        for future in futures:
            future.result(timeout=5)
        assert frees_up(lane)
        lane.shutdown()

    def test_it_is_full_while_its_queue_stands(self, release: threading.Event) -> None:
        standing = StandingQueue(target_s=0.1, interval_s=0.2)
        lane = Lane("test", threads=1, cap=100, standing=standing)
        lane.submit(release.wait)  # holds the one thread
        lane.submit(lambda: None)  # queued behind it
        assert not lane.full()
        time.sleep(0.4)  # past target and interval: the queue stands
        assert lane.full()
        release.set()
        assert frees_up(lane)  # the queue drained
        lane.shutdown()

    def test_a_task_that_raises_frees_its_place(self) -> None:
        lane = Lane("test", threads=1, cap=1)
        future = lane.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            future.result(timeout=5)
        assert frees_up(lane)
        lane.shutdown()


class TestAFullLaneBetweenCallers:
    def test_admits_a_quiet_caller_and_refuses_the_caller_that_holds_it(
        self, release: threading.Event
    ) -> None:
        lane = Lane("test", threads=1, cap=3)
        futures = []
        while lane.admits("flood"):  # each admission is charged by the submit that follows
            futures.append(lane.submit(release.wait))
        assert len(futures) == 3
        assert lane.admits("quiet")
        futures.append(lane.submit(release.wait))
        assert not lane.admits("flood")
        release.set()
        for future in futures:
            future.result(timeout=5)
        assert frees_up(lane)
        assert lane.admits("flood")
        lane.shutdown()

    def test_refuses_a_caller_at_its_own_cap_while_the_lane_has_room(
        self, release: threading.Event
    ) -> None:
        lane = Lane("test", threads=1, cap=10, caller_cap=2)
        for _ in range(2):
            assert lane.admits("flood")
            lane.submit(release.wait)
        assert not lane.admits("flood")
        assert lane.admits("quiet")
        release.set()
        lane.shutdown()


class TestCallLanesBetweenCallers:
    def test_refuses_the_caller_that_holds_a_full_lane_and_reports_it_by_name(
        self, release: threading.Event
    ) -> None:
        lane = Lane("test", threads=1, cap=1)
        refused: list[tuple[str, str]] = []
        lanes = CallLanes(
            {METHOD: lane},
            on_refused=lambda method, caller: refused.append((method, caller)),
            caller_label=lambda _method, metadata: dict(metadata)["caller"],
        )
        handler = grpc.unary_unary_rpc_method_handler(lambda _request, _context: None)

        def call(caller: str) -> object:
            details = CallDetails(METHOD, (("caller", caller),))
            return lanes.intercept_service(lambda _details: handler, details)

        assert call("flood") is not OVER_CAP
        lane.submit(release.wait)  # gRPC queues the call it just asked about
        assert call("flood") is OVER_CAP
        assert call("quiet") is not OVER_CAP
        assert refused == [(METHOD, "flood")]
        release.set()
        lane.shutdown()
