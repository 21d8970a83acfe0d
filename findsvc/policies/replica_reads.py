"""Reads from replicas, with the primary asked only for what a replica cannot know.

The users table is append-mostly with a unique name, so a replica's answer can only be stale
in one way: a name the AddService has just added, and the replica has not applied yet, is
missing. A found user is therefore answered from the replica, and only a miss is asked of
the primary before it becomes NOT_FOUND: a user committed on the primary is found by the
very next call, whatever the replicas' lag.

When the primary cannot be asked, a miss stays unconfirmed and the lookup is UNAVAILABLE,
not NOT_FOUND: the name may well exist (just added, not yet replicated), and a caller told
NOT_FOUND may act on it (create the user again, report it gone); UNAVAILABLE tells it to
retry. Found users are still answered while the primary is down.

A caller that sends a GTID position (`findsvc.domain.read_after`) is answered only by a
target that has applied it: the first healthy replica may wait for it for up to half the
call's remaining budget (at most `max_wait_s`: a healthy replica is no further behind than
its lag limit), the others are asked without waiting, the primary is the fallback.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from findsvc.domain import deadline, read_after
from findsvc.domain.model import Name, User, UserNotFound
from findsvc.domain.ports import (
    CheckedRepository,
    Lookup,
    ReplicaTarget,
    RepositoryTimeout,
    RepositoryUnavailable,
)

PRIMARY = "primary"


class ReadObserver(Protocol):
    """Told where lookups went, e.g. by metrics."""

    def looked_up(self, target: str, count: int) -> None: ...

    def misses_rechecked(self, count: int) -> None: ...


class ReplicaReads:
    def __init__(
        self,
        primary: CheckedRepository,
        replicas: Sequence[ReplicaTarget],
        observer: ReadObserver,
        *,
        cap_s: float,
        max_wait_s: float,
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        self._on_close = on_close
        self._primary = primary
        self._replicas = tuple(replicas)
        self._observer = observer
        self._cap_s = cap_s
        self._max_wait_s = max_wait_s
        self._turns = itertools.count()  # next() is atomic under the GIL

    def get(self, name: Name) -> User:
        with deadline.current_or(self._cap_s):
            for replica in self._answering_replicas():
                try:
                    user = replica.get(name)
                except UserNotFound:
                    self._observer.misses_rechecked(1)
                    break
                except RepositoryUnavailable as error:
                    _give_up_unless_replica_failed(error, replica)
                    continue
                return user
            self._observer.looked_up(PRIMARY, 1)
            return self._primary.get(name)

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        with deadline.current_or(self._cap_s):
            for replica in self._answering_replicas(len(names)):
                try:
                    lookups = replica.get_many(names)
                except RepositoryUnavailable as error:
                    _give_up_unless_replica_failed(error, replica)
                    continue
                return self._confirm_misses(names, lookups)
            self._observer.looked_up(PRIMARY, len(names))
            return self._primary.get_many(names)

    def _confirm_misses(self, names: Sequence[Name], lookups: list[Lookup]) -> list[Lookup]:
        """All the misses of one call in one query to the primary."""
        missing = [i for i, lookup in enumerate(lookups) if isinstance(lookup, UserNotFound)]
        if not missing:
            return lookups
        self._observer.misses_rechecked(len(missing))
        self._observer.looked_up(PRIMARY, len(missing))
        confirmed = self._primary.get_many([names[i] for i in missing])
        for index, lookup in zip(missing, confirmed, strict=True):
            lookups[index] = lookup
        return lookups

    def _answering_replicas(self, count: int = 1) -> Iterator[ReplicaTarget]:
        """Healthy replicas in turn (each starts at the next one), that have applied the
        call's read-after position; each yielded one is counted as asked."""
        position = read_after.current()
        healthy = [replica for replica in self._replicas if replica.healthy]
        if not healthy:
            return
        start = next(self._turns) % len(healthy)
        for place, replica in enumerate(healthy[start:] + healthy[:start]):
            if position is not None:
                budget = deadline.current()
                wait_s = 0.0
                if place == 0 and budget is not None:
                    wait_s = min(budget.remaining_s() / 2, self._max_wait_s)
                    if position.max_wait_s is not None:
                        wait_s = min(wait_s, position.max_wait_s)
                try:
                    if not replica.has_applied(position, wait_s):
                        continue
                except RepositoryUnavailable as error:
                    _give_up_unless_replica_failed(error, replica)
                    continue
            self._observer.looked_up(replica.name, count)
            yield replica

    def ping(self) -> None:
        """Ready while the primary or any healthy replica can answer."""
        try:
            self._primary.ping()
        except RepositoryUnavailable:
            if not any(replica.healthy for replica in self._replicas):
                raise

    def close(self) -> None:
        self._on_close()
        for replica in self._replicas:
            replica.close()
        self._primary.close()


def _give_up_unless_replica_failed(error: RepositoryUnavailable, replica: ReplicaTarget) -> None:
    """A replica that failed under a call is skipped and the next target tried; a caller's
    deadline that ran out (or a busy pool) ends the call."""
    if isinstance(error, RepositoryTimeout) and not error.blames_store:
        raise error
    replica.failed()
