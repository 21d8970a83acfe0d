"""Request coalescing: under load, concurrent lookups share one `WHERE name IN (...)` query.

A lookup that finds fewer than `max_in_flight` queries running goes straight to the store with
its own single-row query: a lone call is never delayed. Otherwise it queues; when a running
query ends, its thread hands the whole queue (up to `max_batch` names) to one of the queued
threads, which runs them as one query and wakes the others. Per call, the driver work (a round
trip, a result set, the GIL hand-offs) is what costs under load, and batching shares it.

Time: each lookup spends the budget of its call (set once at the edge: the caller's deadline
or FINDSVC_DB_TIMEOUT_S, whichever ends first), or `cap_s` from its arrival when it has none;
queueing and the query both spend it. A batch is led by
the waiter whose budget ends last and runs within that budget, so no caller's short deadline
cuts the batch for the others, and a waiter whose own budget runs out leaves without it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from findsvc.domain import deadline
from findsvc.domain.model import Name, User
from findsvc.domain.ports import CheckedRepository, Lookup, RepositoryTimeout, RepositoryUnavailable
from findsvc.policies.outcomes import Outcome, answer


class _Waiter:
    """One queued lookup; its lock is held until the lookup is done (or it is asked to lead)."""

    __slots__ = ("batch", "budget", "done", "name", "outcome")

    def __init__(self, name: Name, budget: deadline.Deadline) -> None:
        self.name = name
        self.budget = budget
        self.outcome: Outcome = None
        self.batch: list[_Waiter] | None = None  # set when this waiter is to run a batch
        self.done = threading.Lock()
        self.done.acquire()


class CoalescingRepository:
    def __init__(
        self,
        inner: CheckedRepository,
        max_in_flight: int,
        *,
        cap_s: float,
        max_batch: int = 100,
    ) -> None:
        self._inner = inner
        self._max_in_flight = max_in_flight
        self._max_batch = max_batch
        self._cap_s = cap_s
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._in_flight = 0
        self.batches = 0  # coalesced queries run, for tests and the benchmark
        self.coalesced = 0  # lookups answered by them

    def get(self, name: Name) -> User:
        with deadline.current_or(self._cap_s) as budget:
            return self._get_within(name, budget)

    def _get_within(self, name: Name, budget: deadline.Deadline) -> User:
        with self._lock:
            alone = self._in_flight < self._max_in_flight
            if alone:
                self._in_flight += 1
            else:
                waiter = _Waiter(name, budget)
                self._queue.append(waiter)
        if alone:
            try:
                return self._inner.get(name)
            finally:
                self._hand_over()
        if not waiter.done.acquire(timeout=budget.remaining_s()):
            with self._lock:
                queued = waiter in self._queue
                if queued:
                    self._queue.remove(waiter)
                leads = waiter.batch is not None
            if not leads:  # still queued, or its batch runs for the others: leave it
                message = "no database query free in time" if queued else "no answer in time"
                raise RepositoryTimeout(message, blames_store=False)
            waiter.done.acquire()  # chosen to lead as its time ran out: the release is due
        if waiter.batch is not None:
            self._run(waiter)
        return answer(waiter.outcome, waiter.name)

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        return self._inner.get_many(names)

    def ping(self) -> None:
        self._inner.ping()

    def close(self) -> None:
        self._inner.close()

    def _run(self, leader: _Waiter) -> None:
        """In the leader's thread, within its budget: the latest of the batch's."""
        batch = leader.batch or [leader]
        try:
            if leader.budget.expired:  # so is every other waiter's: none is waiting
                raise RepositoryTimeout("no database query free in time", blames_store=False)
            lookups = self._inner.get_many([waiter.name for waiter in batch])
            for waiter, lookup in zip(batch, lookups, strict=True):
                waiter.outcome = lookup
        except RepositoryUnavailable as error:
            for waiter in batch:
                waiter.outcome = error.fresh()
        finally:
            with self._lock:
                self.batches += 1
                self.coalesced += len(batch)
            for waiter in batch:
                if waiter is leader:
                    continue
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
            leader = max(batch, key=lambda waiter: waiter.budget.at)
            leader.batch = batch  # under the lock: a waiter timing out can tell it leads
        leader.done.release()
