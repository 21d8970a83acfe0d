"""A read-through cache in front of the repository: off unless FINDSVC_CACHE_TTL_S > 0.

- Found users live `ttl_s`; NOT_FOUND only `negative_ttl_s` (default 0: never cached), because
  the AddService may add that name at any moment. Corrupt rows and outages are never cached.
- A bounded LRU: at most `size` entries, the least recently used goes first.
- Keys are the names exactly as asked (after whitespace stripping). Two spellings the
  collation calls equal get two entries: never a wrong answer, only a second query.
- Single flight: concurrent misses for one name wait for one query to the store. That query
  serves them all, so it runs on a small pool of threads of its own, under the store's own
  cap (FINDSVC_DB_TIMEOUT_S), not under the deadline of whichever caller came first. Each
  caller waits for it within its own call's budget (set at the edge; the cap, if it has none)
  and then gets a timeout; a query no caller waits for any more is dropped before it starts.
- A call that must read after a write (`findsvc.domain.read_after`) passes the cache by: a
  cached answer may predate that write.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from findsvc.domain import deadline, read_after
from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.ports import CheckedRepository, Lookup, RepositoryTimeout, RepositoryUnavailable
from findsvc.policies.outcomes import Outcome, answer, own


class CacheObserver(Protocol):
    """Told of each lookup's outcome, e.g. by metrics, without the cache knowing who listens."""

    def cache_used(self, result: str, count: int) -> None: ...


@dataclass
class CacheStats:
    hits: int = 0  # answered from the cache
    misses: int = 0  # went to the store
    shared: int = 0  # waited for another call's query to the store for the same name
    observer: CacheObserver | None = None

    def count(self, result: str, count: int = 1) -> None:
        setattr(self, result, getattr(self, result) + count)
        if self.observer is not None and count:
            self.observer.cache_used(result, count)


class _Flight:
    __slots__ = ("done", "lookup", "outcome", "waiters")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: Outcome = None
        self.waiters = 0  # callers waiting for it, under the cache's lock
        self.lookup: Future[None] | None = None


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
        lookup_threads: int = 4,
    ) -> None:
        self._inner = inner
        self._cap_s = cap_s
        # Threads start no context of the caller's: no caller's deadline bounds a lookup.
        self._lookups = ThreadPoolExecutor(lookup_threads, thread_name_prefix="cache-lookup")
        self._ttl_s = ttl_s
        self._size = size
        self._negative_ttl_s = negative_ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, User | UserNotFound]] = OrderedDict()
        self._flights: dict[str, _Flight] = {}
        self.stats = CacheStats(observer=observer)

    def get(self, name: Name) -> User:
        if read_after.current() is not None:
            return self._inner.get(name)
        key = name.value
        with self._lock:
            cached = self._cached(key)
            flight = self._join_flight(name) if cached is None else None
        if flight is None:
            return answer(cached, name)
        with deadline.current_or(self._cap_s) as budget:
            answered = flight.done.wait(budget.remaining_s())
        if not answered:
            with self._lock:
                flight.waiters -= 1
                assert flight.lookup is not None
                if flight.waiters == 0 and flight.lookup.cancel():
                    del self._flights[key]  # not started, and nobody waits for it any more
            raise RepositoryTimeout("no answer in time", blames_store=False)
        return answer(flight.outcome, name)

    def _join_flight(self, name: Name) -> _Flight:
        """Under the lock: the lookup running for this name, started if there is none."""
        flight = self._flights.get(name.value)
        if flight is None:
            self.stats.count("misses")
            self._flights[name.value] = flight = _Flight()
            flight.lookup = self._lookups.submit(self._fly, name, flight)
        else:
            self.stats.count("shared")
        flight.waiters += 1
        return flight

    def _fly(self, name: Name, flight: _Flight) -> None:
        """On a lookup thread: one query to the store for every caller waiting on `flight`."""
        try:
            with deadline.deadline_in(self._cap_s):  # this thread's work starts here
                flight.outcome = self._lookup(name)
        finally:
            with self._lock:
                self._remember(name.value, flight.outcome)
                del self._flights[name.value]
            flight.done.set()

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        if read_after.current() is not None:
            return self._inner.get_many(names)
        lookups: list[Lookup | None] = []
        with self._lock:
            for name in names:
                cached = self._cached(name.value)
                lookups.append(cached)
        missing = [name for name, lookup in zip(names, lookups, strict=True) if lookup is None]
        fetched = iter(self._inner.get_many(missing) if missing else [])
        with self._lock:
            self.stats.count("misses", len(missing))
            for i, lookup in enumerate(lookups):
                if lookup is None:
                    fresh = next(fetched)
                    self._remember(names[i].value, fresh)
                    lookups[i] = fresh
        return [own(lookup, name) for lookup, name in zip(lookups, names, strict=True)]

    def ping(self) -> None:
        self._inner.ping()

    def close(self) -> None:
        self._lookups.shutdown(wait=False, cancel_futures=True)
        self._inner.close()

    def _lookup(self, name: Name) -> Lookup | RepositoryUnavailable:
        try:
            return self._inner.get(name)
        except (UserNotFound, CorruptUserRecord, RepositoryUnavailable) as outcome:
            return outcome

    def _cached(self, key: str) -> User | UserNotFound | None:
        """Under the lock: a fresh entry (counted as a hit), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        self.stats.count("hits")
        return value

    def _remember(self, key: str, outcome: object) -> None:
        """Under the lock."""
        if isinstance(outcome, User):
            ttl_s = self._ttl_s
        elif isinstance(outcome, UserNotFound) and self._negative_ttl_s > 0:
            ttl_s = self._negative_ttl_s
        else:
            return
        self._entries[key] = (self._clock() + ttl_s, outcome)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
