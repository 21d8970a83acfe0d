"""Background callers of FindUser, for the tests' fault, drain and soak checks and the bench's
rolling restart: each caller a thread calling in a loop on a channel of its own."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc

from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc


def find(
    channel: grpc.Channel,
    name: str,
    timeout_s: float = 5.0,
    metadata: tuple[tuple[str, str], ...] | None = None,
) -> grpc.StatusCode:
    """FindUser's status code (OK when found)."""
    stub = find_service_pb2_grpc.FindServiceStub(channel)
    try:
        stub.FindUser(
            find_service_pb2.FindUserRequest(name=name), timeout=timeout_s, metadata=metadata
        )
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


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
