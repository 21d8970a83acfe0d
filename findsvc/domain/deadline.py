"""A call's time budget as a plain value: the edge sets it, adapters honour it.

The budget travels in a context variable, so the use case and the repository port need no
extra parameter and stay free of gRPC. Scopes only ever narrow it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Deadline:
    at: float  # on the time.monotonic() clock
    set_by_caller: bool  # the caller's deadline, not one of our own caps, is the tighter bound

    def remaining_s(self) -> float:
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.at


_current: ContextVar[Deadline | None] = ContextVar("findsvc_deadline", default=None)


def current() -> Deadline | None:
    return _current.get()


@contextmanager
def deadline_in(seconds: float, *, set_by_caller: bool = False) -> Iterator[Deadline]:
    """Work inside must end within `seconds` from now, or sooner if an outer scope says so."""
    proposed = Deadline(time.monotonic() + seconds, set_by_caller)
    outer = _current.get()
    effective = outer if outer is not None and outer.at <= proposed.at else proposed
    token = _current.set(effective)
    try:
        yield effective
    finally:
        _current.reset(token)
