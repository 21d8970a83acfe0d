"""A call's time budget is set once at the edge, never above the server's cap, and every wait
below takes it: with no deadline, one already spent (1 ns) and one a year away."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import pytest

from findsvc.domain import deadline
from findsvc.domain.model import Name, User
from findsvc.domain.ports import RepositoryTimeout
from findsvc.policies.caching import CachingRepository
from findsvc.policies.coalescing import CoalescingRepository
from tests.unit.fakes import BudgetRecordingStore, FakeStore

CAP_S = 5.0
GRPC_NO_DEADLINE = 9.223372036854776e18  # what grpcio's time_remaining() gives then
ONE_YEAR = 365 * 24 * 3600.0
ONE_NANOSECOND = 1e-9
WITH_TIME_TO_SPARE = [None, GRPC_NO_DEADLINE, ONE_YEAR, math.nan, math.inf]
TIME_TO_SPARE_IDS = ["none", "grpc none", "a year", "nan", "inf"]


class TestTheBudgetAtTheEdge:
    @pytest.mark.parametrize("remaining", WITH_TIME_TO_SPARE, ids=TIME_TO_SPARE_IDS)
    def test_is_the_cap_when_the_caller_gives_as_much_or_none(
        self, remaining: float | None
    ) -> None:
        budget = deadline.for_call(remaining, CAP_S)
        assert CAP_S - 1 < budget.remaining_s() <= CAP_S
        assert not budget.set_by_caller  # running out of it is our cap: the store is slow

    def test_is_the_callers_when_it_ends_before_the_cap(self) -> None:
        budget = deadline.for_call(0.5, CAP_S)
        assert 0 < budget.remaining_s() <= 0.5
        assert budget.set_by_caller

    @pytest.mark.parametrize("remaining", [ONE_NANOSECOND, 0.0, -1.0], ids=["1 ns", "0", "past"])
    def test_is_spent_at_once_for_a_deadline_that_is_over(self, remaining: float) -> None:
        budget = deadline.for_call(remaining, CAP_S)
        threading.Event().wait(0.001)
        assert budget.expired
        assert budget.remaining_s() == 0.0
        assert budget.set_by_caller

    def test_is_not_narrowed_below_it(self) -> None:
        store = BudgetRecordingStore("KrishnaMohan")
        budget = deadline.for_call(ONE_YEAR, CAP_S)
        queued_lookup(store, budget)
        assert store.batch_budgets == [budget]


Lookup = Callable[[FakeStore, deadline.Deadline], User]


def cached_lookup(store: FakeStore, budget: deadline.Deadline) -> User:
    """A cache miss: the caller runs the cache's lookup of the name, in a store that ends a
    held query at the call's budget, as the MySQL adapter does."""
    store.honours_deadlines = True
    repo = CachingRepository(store, ttl_s=60, size=10, cap_s=CAP_S)
    try:
        with deadline.within(budget):
            return repo.get(Name("KrishnaMohan"))
    finally:
        store.gate.set()
        repo.close()


def queued_lookup(store: FakeStore, budget: deadline.Deadline) -> User:
    """A lookup queued behind a query that holds the only slot until the store's gate opens."""
    repo = CoalescingRepository(store, max_in_flight=1, cap_s=CAP_S)
    answered = store.gate.is_set()
    store.gate.clear()
    holder = threading.Thread(target=repo.get, args=(Name("KrishnaMohan"),))
    holder.start()
    assert store.entered.acquire(timeout=5)
    # The holder's query ends once this lookup has queued behind it, if the store answers.
    opener = threading.Thread(target=open_when_queued, args=(store, repo))
    if answered:
        opener.start()
    try:
        with deadline.within(budget):
            return repo.get(Name("KrishnaMohan"))
    finally:
        store.gate.set()
        holder.join(5)
        if answered:
            opener.join(5)


def open_when_queued(store: FakeStore, repo: CoalescingRepository) -> None:
    while not repo._queue and not store.gate.is_set():
        threading.Event().wait(0.01)
    store.gate.set()


@pytest.mark.parametrize("lookup", [cached_lookup, queued_lookup], ids=["cache", "queue"])
class TestAWaitForALookup:
    @pytest.mark.parametrize("remaining", WITH_TIME_TO_SPARE, ids=TIME_TO_SPARE_IDS)
    def test_with_time_to_spare_gets_the_answer(
        self, lookup: Lookup, remaining: float | None
    ) -> None:
        budget = deadline.for_call(remaining, CAP_S)
        assert lookup(FakeStore("KrishnaMohan"), budget).name.value == "KrishnaMohan"

    def test_with_a_spent_deadline_times_out_on_the_caller(self, lookup: Lookup) -> None:
        store = FakeStore("KrishnaMohan")
        store.gate.clear()  # the store does not answer before the caller gives up
        with pytest.raises(RepositoryTimeout) as raised:
            lookup(store, deadline.for_call(ONE_NANOSECOND, CAP_S))
        assert not raised.value.blames_store
