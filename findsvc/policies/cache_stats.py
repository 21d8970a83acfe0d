"""What the cache counts, and who it tells: metrics, through the CacheObserver Protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class CacheObserver(Protocol):
    """Told of each lookup's outcome, e.g. by metrics, without the cache knowing who listens."""

    def cache_used(self, result: str, count: int) -> None: ...

    def cache_evicted(self, count: int) -> None: ...


@dataclass
class CacheStats:
    hits: int = 0  # answered from the cache
    misses: int = 0  # went to the store
    shared: int = 0  # waited for another call's query to the store for the same name
    evicted: int = 0  # entries dropped because a row with an equal name changed
    observer: CacheObserver | None = None

    def count(self, result: str, count: int = 1) -> None:
        setattr(self, result, getattr(self, result) + count)
        if self.observer is not None and count:
            if result == "evicted":
                self.observer.cache_evicted(count)
            else:
                self.observer.cache_used(result, count)
