"""A call's time budget as a plain value: set once where the work starts, honoured below it.

Where work starts (the gRPC edge for a call, the readiness check, the cache's shared lookup),
the budget is set once; the policies and adapters below read it and never narrow it again:
each wait and each socket timeout takes what remains. The budget travels in a context
variable, so the use case and the repository port need no extra parameter and stay free of
gRPC. A repository used outside any such work (a tool, a test) takes its own cap.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
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


def for_call(caller_remaining_s: float | None, cap_s: float) -> Deadline:
    """A call's one budget: the caller's remaining time, or our cap when the caller set none
    or more. Never more than the cap: gRPC gives "no deadline" as about 9.2e18 s, more than
    any wait or socket timeout takes (threading.TIMEOUT_MAX is about 9.2e9 s)."""
    now = time.monotonic()
    if caller_remaining_s is not None and caller_remaining_s < cap_s:
        return Deadline(now + caller_remaining_s, set_by_caller=True)
    return Deadline(now + cap_s, set_by_caller=False)  # also for nan


@contextmanager
def within(budget: Deadline) -> Iterator[Deadline]:
    """Work inside runs on `budget`."""
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def deadline_in(seconds: float, *, set_by_caller: bool = False) -> AbstractContextManager[Deadline]:
    """Work inside must end within `seconds` from now."""
    return within(Deadline(time.monotonic() + seconds, set_by_caller))


@contextmanager
def current_or(cap_s: float) -> Iterator[Deadline]:
    """The budget of the work under way; outside any (a tool, a test), `cap_s` from now."""
    budget = _current.get()
    if budget is not None:
        yield budget
        return
    with deadline_in(cap_s) as budget:
        yield budget
