"""Coalescing: a lone lookup goes straight through; lookups queued behind a busy query share one."""

from __future__ import annotations

import threading

import pytest

from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.ports import RepositoryUnavailable
from findsvc.policies.coalescing import CoalescingRepository
from tests.support.coalescing import (
    describe,
    in_thread,
    queue_behind_a_busy_query,
)
from tests.unit.fakes import FakeStore


class TestALoneLookup:
    def test_goes_straight_to_the_store_as_a_single_row_query(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=5)
        assert repo.get(Name("KrishnaMohan")).name.value == "KrishnaMohan"
        assert store.singles == ["KrishnaMohan"]
        assert store.batches == []

    def test_an_unknown_name_is_not_found(self) -> None:
        repo = CoalescingRepository(FakeStore("KrishnaMohan"), max_in_flight=1, cap_s=5)
        with pytest.raises(UserNotFound):
            repo.get(Name("NobodyAtAll"))


class TestUnderLoad:
    def test_lookups_queued_behind_a_busy_query_share_one_query(self) -> None:
        store = FakeStore("KrishnaMohan", "GraceHopper", "AdaLovelace")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=5)
        outcomes = queue_behind_a_busy_query(
            store, repo, ["GraceHopper", "AdaLovelace", "NobodyAtAll"]
        )
        assert len(store.batches) == 1
        assert sorted(store.batches[0]) == ["AdaLovelace", "GraceHopper", "NobodyAtAll"]
        found = [describe(o[0]) for o in outcomes]
        assert found == ["GraceHopper", "AdaLovelace", "UserNotFound"]

    def test_a_corrupt_row_fails_only_its_own_lookup(self) -> None:
        store = FakeStore("KrishnaMohan", "GraceHopper")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=5)
        outcomes = queue_behind_a_busy_query(store, repo, ["BrokenPhone1", "GraceHopper"])
        corrupt, grace = outcomes[0][0], outcomes[1][0]
        assert isinstance(corrupt, CorruptUserRecord) and corrupt.name == "BrokenPhone1"
        assert isinstance(grace, User) and grace.name == Name("GraceHopper")

    def test_an_outage_fails_every_lookup_of_the_batch_as_unavailable(self) -> None:
        store = FakeStore("KrishnaMohan", "GraceHopper")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=5)
        store.gate.clear()
        first, _ = in_thread(lambda: repo.get(Name("KrishnaMohan")))
        assert store.entered.acquire(timeout=5)
        started = [in_thread(lambda: repo.get(Name("GraceHopper"))) for _ in range(3)]
        while len(repo._queue) < 3:
            threading.Event().wait(0.01)
        store.down = True
        store.gate.set()
        for thread, _ in started:
            thread.join(5)
        first.join(5)
        assert [type(outcome[0]) for _, outcome in started] == [RepositoryUnavailable] * 3

    def test_batches_never_exceed_the_limit(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo = CoalescingRepository(store, max_in_flight=1, max_batch=2, cap_s=5)
        outcomes = queue_behind_a_busy_query(store, repo, ["KrishnaMohan"] * 5)
        assert [len(batch) for batch in store.batches] == [2, 2, 1]
        assert all(isinstance(outcome[0], User) for outcome in outcomes)

    def test_the_slot_is_free_again_after_the_load(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=5)
        queue_behind_a_busy_query(store, repo, ["KrishnaMohan"] * 3)
        store.singles.clear()
        repo.get(Name("KrishnaMohan"))
        assert store.singles == ["KrishnaMohan"]
