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

from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc


def find(channel: grpc.Channel, name: str, timeout_s: float = 5.0) -> grpc.StatusCode:
    """FindUser's status code (OK when found)."""
    stub = find_service_pb2_grpc.FindServiceStub(channel)
    try:
        stub.FindUser(find_service_pb2.FindUserRequest(name=name), timeout=timeout_s)
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def health_status(channel: grpc.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2).status  # type: ignore[no-any-return]


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
                code = find(channel, name, self.timeout_s)
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
