"""The circuit breaker's rules, on a fake store and a fake clock."""

from __future__ import annotations

import pytest

from findsvc.domain.model import Name, UserNotFound
from findsvc.domain.ports import RepositoryTimeout, RepositoryUnavailable
from findsvc.policies.breaker import BreakerRepository, CircuitBreaker
from tests.unit.fakes import KRISHNA, FailingStore, FakeClock

Guarded = BreakerRepository[FailingStore]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FailingStore:
    return FailingStore()


@pytest.fixture
def guarded(store: FailingStore, clock: FakeClock) -> Guarded:
    return BreakerRepository(store, CircuitBreaker(3, retry_after_s=5.0, clock=clock))


def fail_times(guarded: Guarded, times: int) -> None:
    for _ in range(times):
        with pytest.raises(RepositoryUnavailable):
            guarded.get(KRISHNA.name)


def open_and_wait(guarded: Guarded, store: FailingStore, clock: FakeClock) -> None:
    """The store fails until the circuit opens, and the wait for a trial passes."""
    store.failure = RepositoryUnavailable("down")
    fail_times(guarded, 3)
    clock.now += 5.0


class TestClosed:
    def test_calls_reach_the_store(self, guarded: Guarded) -> None:
        assert guarded.get(KRISHNA.name) == KRISHNA

    def test_not_found_is_an_answer_not_a_failure(self, guarded: Guarded) -> None:
        for _ in range(5):
            with pytest.raises(UserNotFound):
                guarded.get(Name("NobodyAtAll"))
        assert not guarded.breaker.is_open

    def test_fewer_failures_than_the_threshold_keep_it_closed(
        self, guarded: Guarded, store: FailingStore
    ) -> None:
        store.failure = RepositoryUnavailable("down")
        fail_times(guarded, 2)
        store.failure = None
        guarded.get(KRISHNA.name)
        store.failure = RepositoryUnavailable("down")
        fail_times(guarded, 2)
        assert not guarded.breaker.is_open

    @pytest.mark.parametrize(
        ("blames_store", "opens"),
        [(False, False), (True, True)],
        ids=["a caller's deadline or a busy pool: not held against the store", "our own cap"],
    )
    def test_a_timeout_counts_as_a_failure_only_at_our_own_cap(
        self, guarded: Guarded, store: FailingStore, blames_store: bool, opens: bool
    ) -> None:
        store.failure = RepositoryTimeout("slow", blames_store=blames_store)
        fail_times(guarded, 10)
        assert guarded.breaker.is_open is opens


class TestOpen:
    def test_threshold_failures_in_a_row_fail_later_calls_without_the_store(
        self, guarded: Guarded, store: FailingStore
    ) -> None:
        store.failure = RepositoryUnavailable("down")
        fail_times(guarded, 3)
        reached = store.calls
        fail_times(guarded, 20)
        assert store.calls == reached

    def test_a_batch_is_guarded_too(self, guarded: Guarded, store: FailingStore) -> None:
        store.failure = RepositoryUnavailable("down")
        fail_times(guarded, 3)
        reached = store.calls
        with pytest.raises(RepositoryUnavailable):
            guarded.get_many([KRISHNA.name])
        assert store.calls == reached

    def test_a_failed_readiness_probe_opens_it_at_once(
        self, guarded: Guarded, store: FailingStore
    ) -> None:
        store.failure = RepositoryUnavailable("down")
        with pytest.raises(RepositoryUnavailable):
            guarded.ping()
        assert guarded.breaker.is_open

    def test_a_probe_that_found_every_connection_busy_opens_nothing(
        self, guarded: Guarded, store: FailingStore
    ) -> None:
        store.failure = RepositoryTimeout("no connection free", blames_store=False)
        with pytest.raises(RepositoryUnavailable):
            guarded.ping()
        assert not guarded.breaker.is_open

    def test_a_successful_probe_closes_it(self, guarded: Guarded, store: FailingStore) -> None:
        store.failure = RepositoryUnavailable("down")
        fail_times(guarded, 3)
        store.failure = None
        guarded.ping()
        assert guarded.get(KRISHNA.name) == KRISHNA


class TestHalfOpen:
    def test_after_the_wait_one_trial_call_reaches_the_store(
        self, guarded: Guarded, store: FailingStore, clock: FakeClock
    ) -> None:
        open_and_wait(guarded, store, clock)
        store.failure = None
        assert guarded.get(KRISHNA.name) == KRISHNA
        assert not guarded.breaker.is_open

    def test_a_failed_trial_opens_it_for_another_wait(
        self, guarded: Guarded, store: FailingStore, clock: FakeClock
    ) -> None:
        open_and_wait(guarded, store, clock)
        fail_times(guarded, 1)
        reached = store.calls
        clock.now += 4.0
        fail_times(guarded, 5)
        assert store.calls == reached

    def test_only_one_trial_at_a_time(self, clock: FakeClock) -> None:
        breaker = CircuitBreaker(1, retry_after_s=1.0, clock=clock)
        breaker.failed()
        clock.now += 1.0
        assert breaker.allow()
        assert not breaker.allow()


class TestWhatCallersAndOperatorsSee:
    def test_a_batch_goes_through_to_the_store_while_closed(
        self, guarded: BreakerRepository[FailingStore]
    ) -> None:
        assert guarded.get_many([KRISHNA.name, KRISHNA.name]) == [KRISHNA, KRISHNA]

    def test_a_trial_cut_by_its_callers_deadline_leaves_the_next_call_a_trial(
        self, guarded: BreakerRepository[FailingStore], store: FailingStore, clock: FakeClock
    ) -> None:
        store.failure = RepositoryUnavailable("down")
        fail_times(guarded, 3)
        clock.now += 5.0
        store.failure = RepositoryTimeout("slow", blames_store=False)
        with pytest.raises(RepositoryTimeout):
            guarded.get(KRISHNA.name)  # the trial: the caller gave up, the store said nothing
        store.failure = None
        assert guarded.get(KRISHNA.name) == KRISHNA
        assert not guarded.breaker.is_open

    def test_opening_and_closing_are_logged_once_each(
        self,
        guarded: BreakerRepository[FailingStore],
        store: FailingStore,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level("INFO", logger="findsvc.policies.breaker")
        guarded.get(KRISHNA.name)  # closed, and staying so: nothing to say
        store.failure = RepositoryUnavailable("down")
        fail_times(guarded, 5)
        store.failure = None
        guarded.ping()
        guarded.ping()
        assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
            ("WARNING", "circuit open: failing calls fast while the database is unavailable"),
            ("INFO", "circuit closed: the database answers again"),
        ]
