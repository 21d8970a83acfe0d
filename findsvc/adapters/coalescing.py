"""Request coalescing: under load, concurrent lookups share one `WHERE name IN (...)` query.

A lookup that finds fewer than `max_in_flight` queries running goes straight to the store with
its own single-row query: a lone call is never delayed. Otherwise it queues; when a running
query ends, its thread hands the whole queue (up to `max_batch` names) to one of the queued
threads, which runs them as one query and wakes the others. Per call, the driver work (a round
trip, a result set, the GIL hand-offs) is what costs under load, and batching shares it.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Sequence
from typing import Protocol

from findsvc.domain import deadline
from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.ports import Lookup, RepositoryTimeout, RepositoryUnavailable, UserRepository

# Past this, a queued lookup whose batch has not started gives up (the store is stuck).
DEFAULT_QUEUE_WAIT_S = 10.0


class CheckedRepository(UserRepository, Protocol):
    def ping(self) -> None: ...
    def close(self) -> None: ...


class _Waiter:
    """One queued lookup; its lock is held until the lookup is done (or it is asked to lead)."""

    __slots__ = ("batch", "done", "name", "outcome")

    def __init__(self, name: Name) -> None:
        self.name = name
        self.outcome: Lookup | RepositoryUnavailable | None = None
        self.batch: list[_Waiter] | None = None  # set when this waiter is to run a batch
        self.done = threading.Lock()
        self.done.acquire()


class CoalescingRepository:
    def __init__(
        self,
        inner: CheckedRepository,
        max_in_flight: int,
        max_batch: int = 100,
        queue_wait_s: float = DEFAULT_QUEUE_WAIT_S,
    ) -> None:
        self._inner = inner
        self._max_in_flight = max_in_flight
        self._max_batch = max_batch
        self._queue_wait_s = queue_wait_s
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._in_flight = 0
        self.batches = 0  # coalesced queries run, for tests and the benchmark
        self.coalesced = 0  # lookups answered by them

    def get(self, name: Name) -> User:
        with self._lock:
            alone = self._in_flight < self._max_in_flight
            if alone:
                self._in_flight += 1
            else:
                waiter = _Waiter(name)
                self._queue.append(waiter)
        if alone:
            try:
                return self._inner.get(name)
            finally:
                self._hand_over()
        # Queued, a lookup still keeps its caller's deadline.
        budget = deadline.current()
        wait_s = min(self._queue_wait_s, budget.remaining_s()) if budget else self._queue_wait_s
        if not waiter.done.acquire(timeout=wait_s):
            with self._lock:
                queued = waiter in self._queue
                if queued:
                    self._queue.remove(waiter)
            if queued:
                raise RepositoryTimeout("no database query free in time", blames_store=False)
            waiter.done.acquire()  # its batch is running: it ends under the store's timeouts
        if waiter.batch is not None:
            self._run(waiter.batch)
        return _result(waiter.outcome)

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        return self._inner.get_many(names)

    def ping(self) -> None:
        self._inner.ping()

    def close(self) -> None:
        self._inner.close()

    def _run(self, batch: list[_Waiter]) -> None:
        try:
            # The batch serves many callers: not this thread's caller's deadline but the
            # store's own cap bounds it (an empty context carries no deadline).
            names = [waiter.name for waiter in batch]
            lookups = contextvars.Context().run(self._inner.get_many, names)
            for waiter, lookup in zip(batch, lookups, strict=True):
                waiter.outcome = lookup
        except RepositoryUnavailable as error:
            for waiter in batch:
                waiter.outcome = _copy(error)
        finally:
            with self._lock:
                self.batches += 1
                self.coalesced += len(batch)
            for waiter in batch[1:]:  # batch[0] is this thread
                if waiter.outcome is None:  # an unexpected fault: fail safe, never hang
                    waiter.outcome = RepositoryUnavailable("lookup failed")
                waiter.done.release()
            self._hand_over()

    def _hand_over(self) -> None:
        """A query ended: give the queue to one of its waiters, or free the slot."""
        with self._lock:
            if not self._queue:
                self._in_flight -= 1
                return
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        leader = batch[0]
        leader.batch = batch
        leader.done.release()


def _copy(error: RepositoryUnavailable) -> RepositoryUnavailable:
    """One exception object per thread: raising a shared one would mix their tracebacks."""
    if isinstance(error, RepositoryTimeout):
        return RepositoryTimeout(str(error), blames_store=error.blames_store)
    return RepositoryUnavailable(str(error))


def _result(outcome: Lookup | RepositoryUnavailable | None) -> User:
    if isinstance(outcome, User):
        return outcome
    if isinstance(outcome, UserNotFound):
        raise outcome
    if isinstance(outcome, CorruptUserRecord):
        # Names equal under the collation share one outcome: raise a copy of our own.
        raise CorruptUserRecord(outcome.name, outcome.reason)
    raise outcome or RepositoryUnavailable("lookup failed")
