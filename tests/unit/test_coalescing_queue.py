"""Coalescing's queue: each lookup leaves it at its own deadline, a batch runs within the
latest deadline of its lookups, and what queued callers get when their batch fails."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from findsvc.domain.model import Name
from findsvc.domain.ports import Lookup, RepositoryTimeout, RepositoryUnavailable
from findsvc.policies.coalescing import CoalescingRepository
from tests.support.coalescing import (
    describe,
    get_within,
    hold_the_only_slot,
    in_thread,
    queue_behind_a_busy_query,
)
from tests.unit.fakes import BudgetRecordingStore, FakeStore


class TestDeadlinesInTheQueue:
    def test_a_queued_lookup_leaves_at_its_own_deadline_and_the_others_stay(self) -> None:
        store = FakeStore("KrishnaMohan", "GraceHopper")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=5)
        holder = hold_the_only_slot(store, repo)
        hasty, hasty_outcome = in_thread(lambda: get_within(repo, "GraceHopper", 0.2))
        patient, patient_outcome = in_thread(lambda: get_within(repo, "GraceHopper", 5))
        hasty.join(2)
        assert isinstance(hasty_outcome[0], RepositoryTimeout)
        assert not hasty_outcome[0].blames_store
        store.gate.set()
        for thread in (holder, patient):
            thread.join(5)
        assert describe(patient_outcome[0]) == "GraceHopper"
        assert store.batches == [["GraceHopper"]]

    def test_the_batch_runs_within_the_latest_deadline_of_its_lookups(self) -> None:
        store = BudgetRecordingStore("KrishnaMohan", "GraceHopper", "AdaLovelace")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=30)
        holder = hold_the_only_slot(store, repo)
        first, first_outcome = in_thread(lambda: get_within(repo, "GraceHopper", 2))
        later, later_outcome = in_thread(lambda: get_within(repo, "AdaLovelace", 8))
        while len(repo._queue) < 2:
            threading.Event().wait(0.01)
        store.gate.set()
        for thread in (holder, first, later):
            thread.join(5)
        assert [describe(first_outcome[0]), describe(later_outcome[0])] == [
            "GraceHopper",
            "AdaLovelace",
        ]
        budget = store.batch_budgets[0]
        assert budget is not None and budget.remaining_s() > 4  # the 8 s one, not the 2 s one

    def test_a_lookup_without_a_deadline_queues_no_longer_than_the_cap(self) -> None:
        store = FakeStore("KrishnaMohan", "GraceHopper")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=0.3)
        holder = hold_the_only_slot(store, repo)
        queued, outcome = in_thread(lambda: repo.get(Name("GraceHopper")))
        queued.join(2)
        assert not queued.is_alive()
        assert isinstance(outcome[0], RepositoryTimeout)
        store.gate.set()
        holder.join(5)


class BrokenBatches(FakeStore):
    """A batch query that fails in a way no one planned for."""

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        super().get_many(names)
        raise RuntimeError("a bug in the store")


class SlowBatches(FakeStore):
    """A batch query the store itself let run past our cap."""

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        super().get_many(names)
        raise RepositoryTimeout("database did not answer in time", blames_store=True)


class TestWhatQueuedCallersGet:
    def test_an_unexpected_fault_in_their_batch_fails_each_as_unavailable_at_once(self) -> None:
        store = BrokenBatches("KrishnaMohan", "GraceHopper")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=5)
        holder = hold_the_only_slot(store, repo)
        # The first queued has the latest deadline, so it runs the batch for the other two.
        queued = [in_thread(lambda: repo.get(Name("GraceHopper")))]
        queued += [
            in_thread(lambda n=n: get_within(repo, n, 3)) for n in ("AdaLovelace", "AlanTuring1")
        ]
        while len(repo._queue) < 3:
            threading.Event().wait(0.01)
        store.gate.set()
        for thread, _ in [(holder, None), *queued]:
            thread.join(30)
        leader, *others = [outcome[0] for _, outcome in queued]
        # The one that ran the batch sees the bug; the others are told to retry at once, not
        # left to wait out their deadlines.
        assert isinstance(leader, RuntimeError)
        assert [type(o) for o in others] == [RepositoryUnavailable, RepositoryUnavailable]
        assert (repo.batches, repo.coalesced) == (1, 3)

    def test_one_whose_deadline_ends_in_the_queue_is_not_held_against_the_store(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=30)
        holder = hold_the_only_slot(store, repo)
        try:
            with pytest.raises(RepositoryTimeout) as raised:
                get_within(repo, "GraceHopper", 0.05)
            assert raised.value.blames_store is False
        finally:
            store.gate.set()
            holder.join(5)

    def test_a_batch_that_times_out_is_a_timeout_for_every_caller_in_it(self) -> None:
        store = SlowBatches("KrishnaMohan", "GraceHopper")
        repo = CoalescingRepository(store, max_in_flight=1, cap_s=5)
        outcomes = queue_behind_a_busy_query(store, repo, ["GraceHopper", "AdaLovelace"])
        assert [type(o[0]) for o in outcomes] == [RepositoryTimeout, RepositoryTimeout]

    def test_no_more_queries_than_max_in_flight_run_at_once(self) -> None:
        store = FakeStore("KrishnaMohan", "GraceHopper")
        repo = CoalescingRepository(store, max_in_flight=2, cap_s=5)
        repo.get(Name("KrishnaMohan"))  # one query come and gone: the count is back to 0
        assert store.entered.acquire(timeout=5)  # its entry into the store, counted
        store.gate.clear()
        running = [in_thread(lambda: repo.get(Name("KrishnaMohan"))) for _ in range(2)]
        for _ in running:
            assert store.entered.acquire(timeout=5)
        third, _ = in_thread(lambda: repo.get(Name("GraceHopper")))
        for _ in range(500):  # the third waits for a free query
            if repo._queue:
                break
            threading.Event().wait(0.01)
        assert len(repo._queue) == 1
        assert not store.entered.acquire(timeout=0.2)
        store.gate.set()
        for thread, _ in [*running, (third, None)]:
            thread.join(5)
