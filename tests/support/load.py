"""Background callers and watchers for fault, drain and soak tests, plus /proc readings."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.calls import find


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


@dataclass(frozen=True)
class Outcome:
    started: float  # time.monotonic()
    seconds: float
    name: str
    code: grpc.StatusCode


@dataclass
class Load:
    """`callers` threads calling FindUser in a loop over `names` until stopped."""

    target: str
    names: Sequence[str]
    callers: int = 4
    timeout_s: float = 5.0
    channel_factory: Callable[[str], grpc.Channel] = grpc.insecure_channel
    metadata: tuple[tuple[str, str], ...] | None = None  # sent with every call
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._call, args=(i,), daemon=True) for i in range(self.callers)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _call(self, index: int) -> None:
        with self.channel_factory(self.target) as channel:
            i = index
            while not self._stop.is_set():
                name = self.names[i % len(self.names)]
                i += 1
                started = time.monotonic()
                code = find(channel, name, self.timeout_s, self.metadata)
                self.outcomes.append(Outcome(started, time.monotonic() - started, name, code))

    def codes(self, since: float = 0.0, until: float = float("inf")) -> Counter[grpc.StatusCode]:
        return Counter(o.code for o in list(self.outcomes) if since <= o.started < until)


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
