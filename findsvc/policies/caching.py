"""A read-through cache in front of the repository, kept by time (ttl) or by the table's
changes (followed: FINDSVC_CACHE_MODE, docs/cache.md).

- ttl: found users live `ttl_s`; NOT_FOUND only `negative_ttl_s` (default 0: never cached),
  because the AddService may add that name at any moment.
- followed (`follow` given): entries live until a change to a row whose name could equal
  theirs evicts them (`TableChanges`). The cache answers only while `follow` is current. A
  cached NOT_FOUND is served only once every change committed before the call arrived has
  been told, so a user added a moment ago is found by the very next call; so is a NOT_FOUND
  from a shared query that began before the call arrived.
- Corrupt rows and outages are never cached. A query's answer is kept only if no change to
  its name was told while it ran: it may predate that change.
- A bounded LRU: at most `size` entries, the least recently used goes first.
- Keys are the names as asked. Two spellings the collation calls equal get two entries.
- Single flight: concurrent misses for one name wait for one query to the store. The first
  caller runs it on its own thread, within its own budget (set at the edge; the cap, if it
  has none): a hand-off to another thread would cost each miss more CPU than the query. The
  others wait for it within their own budgets and then get a timeout; if it ends at the
  first caller's deadline, a waiter with time left asks again. A NOT_FOUND from a query that
  began before a waiter arrived answers it only once confirmed (see followed); by TTL, the
  waiter asks the store itself: the user may have been added in between.
- A call that must read after a write (`findsvc.domain.read_after`) passes the cache by: a
  cached answer may predate that write.
- followed, with read replicas: a query the cache makes reads after the GTID position of the
  changes told when it began (`Freshness.applied_position`), so a replica that has not
  applied a change the cache was told of cannot answer the row it replaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence

from findsvc.domain import deadline, read_after
from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.ports import (
    CheckedRepository,
    Freshness,
    Lookup,
    RepositoryTimeout,
    RepositoryUnavailable,
)
from findsvc.policies.cache_entries import Cached, Entries
from findsvc.policies.cache_reads import (
    Flight,
    Read,
    ReadsInProgress,
    cut_by_its_leader,
    fill_position,
)
from findsvc.policies.cache_stats import CacheObserver, CacheStats
from findsvc.policies.name_fold import fold
from findsvc.policies.outcomes import Outcome, answer, own

# A cached NOT_FOUND that may be served only once the changes have caught up.
_UNCONFIRMED = object()


class CachingRepository:
    def __init__(
        self,
        inner: CheckedRepository,
        ttl_s: float,
        size: int,
        negative_ttl_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        observer: CacheObserver | None = None,
        *,
        cap_s: float,
        follow: Freshness | None = None,
    ) -> None:
        self._inner = inner
        self._cap_s = cap_s
        self._ttl_s = ttl_s
        self._negative_ttl_s = negative_ttl_s
        self._follow = follow
        self._lock = threading.Lock()
        self._entries = Entries(size, clock)
        self._flights: dict[str, Flight] = {}
        self._reads = ReadsInProgress()
        self.stats = CacheStats(observer=observer)

    def get(self, name: Name) -> User:
        if read_after.current() is not None:
            return self._inner.get(name)
        arrival = time.monotonic()
        flight, leads = self._cached_or_flight(name, arrival)
        if not isinstance(flight, Flight):
            return answer(flight, name)  # a hit: the fast path
        with deadline.current_or(self._cap_s) as budget:
            while True:
                if leads:
                    self._fly(name, flight)
                elif not flight.done.wait(budget.remaining_s()):
                    raise RepositoryTimeout("no answer in time", blames_store=False)
                if leads or not cut_by_its_leader(flight.outcome) or budget.expired:
                    break
                # The caller that led it ran out of time; this one has some left: ask again.
                flight, leads = self._cached_or_flight(name, arrival)
                if not isinstance(flight, Flight):
                    return answer(flight, name)
        if flight.begun < arrival and isinstance(flight.outcome, UserNotFound):
            return self._not_found_since(name, arrival)
        return answer(flight.outcome, name)

    def _cached_or_flight(self, name: Name, arrival: float) -> tuple[Cached | Flight, bool]:
        """The cached answer, or the flight to wait for and whether this caller leads it."""
        key = name.value
        with self._lock:
            cached = self._cached(key)
            if cached is None:
                return self._join_flight(name)
        if cached is _UNCONFIRMED:
            confirmed = self._caught_up_since(arrival)
            with self._lock:
                cached = self._cached(key, confirmed=True) if confirmed else None
                if cached is None:
                    return self._join_flight(name)
        return cached, False  # type: ignore[return-value]

    def _not_found_since(self, name: Name, arrival: float) -> User:
        """A NOT_FOUND read by a query that began before this call arrived: the user may have
        been added in between. Followed, it stands if the changes caught up with the call and
        the answer is still cached (no change to an equal name dropped it, or kept it out);
        by TTL, nothing tells of changes, so the store is asked again."""
        if self._follow is None:
            return self._inner.get(name)
        if self._caught_up_since(arrival):
            with self._lock:
                if isinstance(self._entries.get(name.value), UserNotFound):
                    raise UserNotFound(name)
        with read_after.reading_after(fill_position(self._follow.applied_position())):
            return self._inner.get(name)

    def _join_flight(self, name: Name) -> tuple[Flight, bool]:
        """Under the lock: the lookup under way for this name, or a new one this caller leads
        (True)."""
        flight = self._flights.get(name.value)
        if flight is None:
            self.stats.count("misses")
            self._flights[name.value] = flight = Flight(self._begin_read([name]))
            return flight, True
        self.stats.count("shared")
        return flight, False

    def _fly(self, name: Name, flight: Flight) -> None:
        """On the leading caller's thread, within its budget: one query to the store for
        every caller waiting on `flight`."""
        try:
            with read_after.reading_after(flight.read.after):
                flight.outcome = self._lookup(name)
        finally:
            with self._lock:
                self._end_read(flight.read, [(name.value, flight.outcome)])
                del self._flights[name.value]
            flight.done.set()

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        if read_after.current() is not None:
            return self._inner.get_many(names)
        arrival = time.monotonic()
        with self._lock:
            lookups = [self._cached(name.value) for name in names]
        if any(lookup is _UNCONFIRMED for lookup in lookups):
            confirmed = self._caught_up_since(arrival)
            with self._lock:
                lookups = [
                    (self._cached(name.value, confirmed=True) if confirmed else None)
                    if lookup is _UNCONFIRMED
                    else lookup
                    for name, lookup in zip(names, lookups, strict=True)
                ]
        missing = [name for name, lookup in zip(names, lookups, strict=True) if lookup is None]
        with self._lock:
            read = self._begin_read(missing)
            self.stats.count("misses", len(missing))
        try:
            with read_after.reading_after(read.after):
                fetched = self._inner.get_many(missing) if missing else []
        except BaseException:
            with self._lock:
                self._reads.drop(read)
            raise
        answers = dict(zip((name.value for name in missing), fetched, strict=True))
        with self._lock:
            self._end_read(read, answers.items())
        found = [
            answers[name.value] if lookup is None else lookup
            for name, lookup in zip(names, lookups, strict=True)
        ]
        return [own(lookup, name) for lookup, name in zip(found, names, strict=True)]  # type: ignore[arg-type]

    def ping(self) -> None:
        self._inner.ping()

    def close(self) -> None:
        if self._follow is not None:
            self._follow.close()
        self._inner.close()

    # TableChanges: told by the follower, on its own thread.
    def names_changed(self, names: Collection[str]) -> None:
        folds = frozenset(fold(name) for name in names)
        with self._lock:
            self.stats.count("evicted", self._entries.evict_equal(folds))
            self._reads.names_changed(folds)

    def forget_all(self) -> None:
        with self._lock:
            self.stats.count("evicted", len(self._entries))
            self._entries.clear()
            self._reads.all_changed()

    def _caught_up_since(self, arrival: float) -> bool:
        assert self._follow is not None
        budget = deadline.current()
        return self._follow.caught_up_since(
            arrival, min(self._cap_s, budget.remaining_s() if budget else self._cap_s)
        )

    def _lookup(self, name: Name) -> Lookup | RepositoryUnavailable:
        try:
            return self._inner.get(name)
        except (UserNotFound, CorruptUserRecord, RepositoryUnavailable) as outcome:
            return outcome

    def _begin_read(self, names: Sequence[Name]) -> Read:
        """Under the lock. Begun while the changes are not current, its answer is not kept."""
        if self._follow is None:
            return self._reads.begin(names, stale=False)
        stale = not self._follow.is_current()
        return self._reads.begin(names, stale, fill_position(self._follow.applied_position()))

    def _end_read(self, read: Read, answers: Collection[tuple[str, Outcome]]) -> None:
        """Under the lock."""
        if self._reads.end(read):
            for key, outcome in answers:
                self._remember(key, outcome)

    def _cached(self, key: str, *, confirmed: bool = False) -> Cached | object | None:
        """Under the lock: a fresh entry (counted as a hit), _UNCONFIRMED, or None."""
        if self._follow is not None and not self._follow.is_current():
            return None
        value = self._entries.get(key)
        if value is None:
            return None
        if isinstance(value, UserNotFound) and self._follow is not None and not confirmed:
            return _UNCONFIRMED
        self.stats.count("hits")
        return value

    def _remember(self, key: str, outcome: Outcome) -> None:
        """Under the lock."""
        if isinstance(outcome, User):
            self._entries.put(key, outcome, self._ttl_s)
        elif isinstance(outcome, UserNotFound) and self._negative_ttl_s > 0:
            self._entries.put(key, outcome, self._negative_ttl_s)
