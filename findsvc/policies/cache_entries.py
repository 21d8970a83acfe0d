"""The cache's entries: a bounded LRU of outcomes by the name as asked, with expiry, and an
index by fold so that a changed row evicts every spelling its name could equal."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection

from findsvc.domain.model import User, UserNotFound
from findsvc.policies.name_fold import fold

Cached = User | UserNotFound


class Entries:
    """Not thread-safe: the cache calls it under its own lock."""

    def __init__(self, size: int, clock: Callable[[], float]) -> None:
        self._size = size
        self._clock = clock
        # key -> (expires, value, the key's fold): folded once, when the key comes in.
        self._entries: OrderedDict[str, tuple[float, Cached, str]] = OrderedDict()
        self._by_fold: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Cached | None:
        """The entry, if it has not expired; it becomes the most recently used."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value, _ = entry
        if expires <= self._clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: Cached, ttl_s: float) -> None:
        entry = self._entries.get(key)
        if entry is None:
            folded = fold(key)
            self._by_fold.setdefault(folded, set()).add(key)
        else:
            folded = entry[2]
        self._entries[key] = (self._clock() + ttl_s, value, folded)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._drop(next(iter(self._entries)))

    def evict_equal(self, folds: Collection[str]) -> int:
        """Drops every key with one of these folds; returns how many went."""
        evicted = 0
        for folded in folds:
            for key in self._by_fold.pop(folded, ()):
                del self._entries[key]
                evicted += 1
        return evicted

    def clear(self) -> None:
        self._entries.clear()
        self._by_fold.clear()

    def _drop(self, key: str) -> None:
        folded = self._entries.pop(key)[2]
        keys = self._by_fold[folded]
        keys.discard(key)
        if not keys:
            del self._by_fold[folded]
