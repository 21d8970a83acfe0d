"""With read replicas, a query the binlog cache makes reads after the changes it was told
when the query began: the position reaches the layers below, and a caller's own read-after
still passes the cache by."""

from __future__ import annotations

import math
from dataclasses import replace

from findsvc.domain import read_after
from findsvc.domain.model import Name, User
from findsvc.domain.ports import Lookup
from findsvc.domain.read_after import ReadAfter
from findsvc.policies.cache_reads import FILL_MAX_WAIT_S
from findsvc.policies.caching import CachingRepository
from tests.unit.fakes import FakeFreshness, FakeStore

TOLD = ReadAfter("0-1-42", "mariadb")
FILL = replace(TOLD, max_wait_s=FILL_MAX_WAIT_S)  # a fill waits for a replica only briefly


class PositionSeen(FakeStore):
    """Keeps the read-after position each query ran under."""

    def __init__(self, *names: str) -> None:
        super().__init__(*names)
        self.positions: list[ReadAfter | None] = []

    def get(self, name: Name) -> User:
        self.positions.append(read_after.current())
        return super().get(name)

    def get_many(self, names: list[Name]) -> list[Lookup]:  # type: ignore[override]
        self.positions.append(read_after.current())
        return super().get_many(names)


def followed(store: FakeStore) -> tuple[CachingRepository, FakeFreshness]:
    freshness = FakeFreshness()
    freshness.position = TOLD
    return CachingRepository(store, math.inf, 100, math.inf, cap_s=5, follow=freshness), freshness


class TestAFillReadsAfterTheChangesTold:
    def test_a_single_miss_reads_after_the_position_told(self) -> None:
        store = PositionSeen("GraceHopper")
        cache, _ = followed(store)
        cache.get(Name("GraceHopper"))
        assert store.positions == [FILL]
        assert read_after.current() is None  # only around the query

    def test_a_batch_reads_its_misses_after_the_position_told(self) -> None:
        store = PositionSeen("GraceHopper", "AdaLovelace")
        cache, _ = followed(store)
        cache.get(Name("GraceHopper"))
        cache.get_many([Name("GraceHopper"), Name("AdaLovelace")])
        assert store.positions == [FILL, FILL]

    def test_the_position_is_the_one_told_when_the_query_began(self) -> None:
        store = PositionSeen("GraceHopper")
        cache, freshness = followed(store)
        later = ReadAfter("0-1-43", "mariadb")
        cache.get(Name("GraceHopper"))
        freshness.position = later
        cache.names_changed(["GraceHopper"])
        cache.get(Name("GraceHopper"))
        assert store.positions == [FILL, replace(later, max_wait_s=FILL_MAX_WAIT_S)]

    def test_no_position_told_reads_from_any_store(self) -> None:
        store = PositionSeen("GraceHopper")
        cache, freshness = followed(store)
        freshness.position = None
        cache.get(Name("GraceHopper"))
        assert store.positions == [None]

    def test_a_callers_own_position_passes_the_cache_by_as_before(self) -> None:
        store = PositionSeen("GraceHopper")
        cache, _ = followed(store)
        own = ReadAfter("0-1-7", "mariadb")
        with read_after.reading_after(own):
            cache.get(Name("GraceHopper"))
            cache.get(Name("GraceHopper"))
        assert store.positions == [own, own]
