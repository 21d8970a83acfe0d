"""The cache kept by the table's changes: what a change evicts, when it answers from memory,
and when a cached NOT_FOUND may be served."""

from __future__ import annotations

import math
import threading

import pytest

from findsvc.domain.model import Name, UserNotFound
from findsvc.policies.caching import CachingRepository
from tests.support.load import wait_for
from tests.unit.fakes import FakeFreshness, FakeStore, ReadThenWaitStore, user


def followed(store: FakeStore, size: int = 100) -> tuple[CachingRepository, FakeFreshness]:
    freshness = FakeFreshness()
    cache = CachingRepository(store, math.inf, size, math.inf, cap_s=5, follow=freshness)
    return cache, freshness


class TestChanges:
    def test_a_found_user_is_served_from_memory_until_its_row_changes(self) -> None:
        store = FakeStore("GraceHopper")
        cache, _ = followed(store)
        cache.get(Name("GraceHopper"))
        cache.get(Name("GraceHopper"))
        assert store.singles == ["GraceHopper"]
        store.users["gracehopper"] = user("GraceHopper", phone=9000000009)
        cache.names_changed(["GraceHopper"])
        assert cache.get(Name("GraceHopper")).phone.value == 9000000009

    def test_a_change_evicts_every_spelling_the_collation_may_call_equal(self) -> None:
        store = FakeStore("GraceHopper")
        cache, _ = followed(store)
        spellings = ("GraceHopper", "gracehopper", "GraceHopperX")
        for spelling in spellings:
            cache.get_many([Name(spelling)])
        cache.names_changed(["gräcehopper  "])  # equal under an accent-insensitive PAD SPACE
        store.batches.clear()
        for spelling in spellings:
            cache.get_many([Name(spelling)])
        assert store.batches == [["GraceHopper"], ["gracehopper"]]
        assert cache.stats.evicted == 2

    def test_an_answer_read_while_its_row_changed_is_not_kept(self) -> None:
        store = FakeStore("GraceHopper")
        cache, _ = followed(store)
        store.gate.clear()
        first = threading.Thread(target=cache.get, args=(Name("GraceHopper"),))
        first.start()
        assert store.entered.acquire(timeout=10)
        cache.names_changed(["GRACEHOPPER"])  # committed after the query read the old row
        store.gate.set()
        first.join(10)
        cache.get(Name("GraceHopper"))
        assert store.singles == ["GraceHopper", "GraceHopper"]

    def test_after_the_feed_is_lost_nothing_known_before_is_served(self) -> None:
        store = FakeStore("GraceHopper")
        cache, _ = followed(store)
        cache.get(Name("GraceHopper"))
        cache.forget_all()
        cache.get(Name("GraceHopper"))
        assert store.singles == ["GraceHopper", "GraceHopper"]


class TestWhenTheFollowerIsNotCurrent:
    def test_every_lookup_goes_to_the_store_and_nothing_it_read_is_kept(self) -> None:
        store = FakeStore("GraceHopper")
        cache, freshness = followed(store)
        freshness.current = False
        cache.get(Name("GraceHopper"))
        cache.get(Name("GraceHopper"))
        freshness.current = True
        cache.get(Name("GraceHopper"))
        cache.get(Name("GraceHopper"))
        assert store.singles == ["GraceHopper", "GraceHopper", "GraceHopper"]


class TestNotFound:
    def test_a_cached_not_found_is_served_once_the_changes_caught_up_with_the_call(
        self,
    ) -> None:
        store = FakeStore()
        cache, freshness = followed(store)
        for _ in range(3):
            with pytest.raises(UserNotFound):
                cache.get(Name("GraceHopper"))
        assert store.singles == ["GraceHopper"]
        assert len(freshness.waited_since) == 2

    def test_when_the_changes_cannot_be_shown_caught_up_the_store_is_asked(self) -> None:
        store = FakeStore()
        cache, freshness = followed(store)
        with pytest.raises(UserNotFound):
            cache.get(Name("GraceHopper"))
        freshness.caught_up = False
        store.users["gracehopper"] = user("GraceHopper")
        assert cache.get(Name("GraceHopper")).name.value == "GraceHopper"

    def test_a_batch_serves_cached_not_found_only_once_caught_up(self) -> None:
        store = FakeStore("GraceHopper")
        cache, freshness = followed(store)
        cache.get_many([Name("GraceHopper"), Name("AdaLovelace")])
        freshness.caught_up = False
        store.users["adalovelace"] = user("AdaLovelace")
        lookups = cache.get_many([Name("GraceHopper"), Name("AdaLovelace")])
        assert [type(lookup).__name__ for lookup in lookups] == ["User", "User"]
        assert store.batches == [["GraceHopper", "AdaLovelace"], ["AdaLovelace"]]


class TestAQueryThatBeganBeforeTheCall:
    def test_its_not_found_is_not_the_answer_to_a_call_after_the_user_was_added(self) -> None:
        store = ReadThenWaitStore()
        cache, _ = followed(store)
        store.gate.clear()
        first = threading.Thread(target=_not_found, args=(cache, "GraceHopper"))
        first.start()
        assert store.entered.acquire(timeout=10)  # its query read no GraceHopper...
        store.users["gracehopper"] = user("GraceHopper")  # ...then she was added,
        cache.names_changed(["GraceHopper"])  # and the follower told so
        found: list[str] = []
        second = threading.Thread(
            target=lambda: found.append(cache.get(Name("GraceHopper")).name.value)
        )
        second.start()  # a call after the commit, which finds that query in flight
        wait_for(lambda: cache.stats.shared == 1, timeout_s=10)
        store.gate.set()
        first.join(10)
        second.join(10)
        assert found == ["GraceHopper"]


def _not_found(cache: CachingRepository, name: str) -> None:
    with pytest.raises(UserNotFound):
        cache.get(Name(name))
