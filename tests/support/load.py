"""Waiting for a condition, background callers (devkit's) and health watchers for fault, drain
and soak tests, plus /proc readings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devkit.callers import Load as Load


def wait_for(condition: Callable[[], bool], timeout_s: float, step_s: float = 0.05) -> float:
    """Seconds until condition() held; AssertionError when it never did."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if condition():
                return time.monotonic() - started
        except grpc.RpcError:
            pass
        time.sleep(step_s)
    raise AssertionError(f"condition not met within {timeout_s}s")


class HealthWatch:
    """Streams Health/Watch for one name and keeps every status it receives."""

    def __init__(self, channel: grpc.Channel, service: str) -> None:
        stub = health_pb2_grpc.HealthStub(channel)
        self._call = stub.Watch(health_pb2.HealthCheckRequest(service=service))
        self.statuses: list[int] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for reply in self._call:
                self.statuses.append(reply.status)
        except grpc.RpcError:
            pass

    def close(self) -> None:
        self._call.cancel()
        self._thread.join(timeout=5)

    def distinct(self) -> list[int]:
        """The statuses in order, repeats collapsed."""
        result: list[int] = []
        for status in self.statuses:
            if not result or result[-1] != status:
                result.append(status)
        return result


@contextmanager
def idle_watches(channel: grpc.Channel, names: list[str]) -> Iterator[list[object]]:
    """A Watch stream for each name, left open after its first answer: each yields that
    answer's status, or the status code of the refusal."""
    stub = health_pb2_grpc.HealthStub(channel)
    calls: list[Any] = []
    firsts: list[object] = []
    try:
        # In batches: the server takes no more streams on a connection than its lanes admit,
        # and a client that opens more before it has heard so gets some refused (UNAVAILABLE).
        for batch in range(0, len(names), 50):
            # The timeout only ends a test that fails: a stream queued for a thread never answers.
            opened = [
                stub.Watch(health_pb2.HealthCheckRequest(service=name), timeout=20)
                for name in names[batch : batch + 50]
            ]
            calls += opened
            for call in opened:
                try:
                    firsts.append(next(call).status)
                except grpc.RpcError as error:
                    firsts.append(error.code())
        yield firsts
    finally:
        for call in calls:
            call.cancel()


def _status_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {name} in /proc/{pid}/status")


# gRPC's own thread pools (C-core threads count here too) grow and shrink by a few under load;
# a leak of one thread per stuck call, or per thousand calls, adds far more.
THREAD_JITTER = 8


def thread_count(pid: int) -> int:
    return _status_field(pid, "Threads")


def rss_kib(pid: int) -> int:
    return _status_field(pid, "VmRSS")


def children_of(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def is_running(pid: int) -> bool:
    """Alive and not yet a zombie (an orphan's zombie waits for a reaper that may never come)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
