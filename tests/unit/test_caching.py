"""The read-through cache: what it keeps, for how long, and what it never keeps."""

from __future__ import annotations

import threading
import time

import pytest

from findsvc.domain.deadline import deadline_in
from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.ports import RepositoryTimeout, RepositoryUnavailable
from findsvc.policies.caching import CachingRepository
from tests.support.calls import KRISHNA_PHONE
from tests.unit.fakes import FakeClock, FakeStore, user


def cache(
    store: FakeStore, ttl_s: float = 10, size: int = 100, negative_ttl_s: float = 0
) -> tuple[CachingRepository, FakeClock]:
    clock = FakeClock()
    return CachingRepository(store, ttl_s, size, negative_ttl_s, clock, cap_s=5), clock


class TestFoundUsers:
    def test_a_second_lookup_within_the_ttl_is_a_hit(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo, _ = cache(store)
        repo.get(Name("KrishnaMohan"))
        assert repo.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE
        assert store.singles == ["KrishnaMohan"]
        assert (repo.stats.hits, repo.stats.misses) == (1, 1)

    def test_after_the_ttl_the_store_is_asked_again(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo, clock = cache(store, ttl_s=10)
        repo.get(Name("KrishnaMohan"))
        clock.now += 10
        repo.get(Name("KrishnaMohan"))
        assert store.singles == ["KrishnaMohan", "KrishnaMohan"]

    def test_the_least_recently_used_entry_goes_first(self) -> None:
        store = FakeStore("KrishnaMohan", "GraceHopper", "AdaLovelace")
        repo, _ = cache(store, size=2)
        for name in ("KrishnaMohan", "GraceHopper", "KrishnaMohan", "AdaLovelace"):
            repo.get(Name(name))
        store.singles.clear()
        repo.get(Name("KrishnaMohan"))
        repo.get(Name("GraceHopper"))
        assert store.singles == ["GraceHopper"]


class TestWhatIsNotCached:
    def test_not_found_is_not_cached_by_default(self) -> None:
        store = FakeStore()
        repo, _ = cache(store)
        for _ in range(2):
            with pytest.raises(UserNotFound):
                repo.get(Name("GraceHopper"))
        store.users["gracehopper"] = _grace()
        assert repo.get(Name("GraceHopper")).name.value == "GraceHopper"
        assert len(store.singles) == 3

    def test_not_found_is_cached_only_for_its_own_ttl(self) -> None:
        store = FakeStore()
        repo, clock = cache(store, ttl_s=60, negative_ttl_s=1)
        with pytest.raises(UserNotFound):
            repo.get(Name("GraceHopper"))
        store.users["gracehopper"] = _grace()
        with pytest.raises(UserNotFound):
            repo.get(Name("GraceHopper"))
        clock.now += 1
        assert repo.get(Name("GraceHopper")).name.value == "GraceHopper"

    def test_corrupt_rows_and_outages_are_not_cached(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo, _ = cache(store)
        for _ in range(2):
            with pytest.raises(CorruptUserRecord):
                repo.get(Name("BrokenPhone1"))
        store.down = True
        with pytest.raises(RepositoryUnavailable):
            repo.get(Name("KrishnaMohan"))
        store.down = False
        assert repo.get(Name("KrishnaMohan")).name.value == "KrishnaMohan"
        assert len(store.singles) == 4

    def test_another_spelling_is_another_entry_never_a_wrong_answer(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo, _ = cache(store)
        repo.get(Name("KrishnaMohan"))
        assert repo.get(Name("krishnamohan")).name.value == "KrishnaMohan"
        assert store.singles == ["KrishnaMohan", "krishnamohan"]


class TestSingleFlight:
    def test_concurrent_misses_for_one_name_share_one_query(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo, _ = cache(store)
        store.gate.clear()
        results: list[User] = []
        threads = [
            threading.Thread(target=lambda: results.append(repo.get(Name("KrishnaMohan"))))
            for _ in range(5)
        ]
        for thread in threads:
            thread.start()
        assert store.entered.acquire(timeout=5)
        while repo.stats.shared < 4:
            threading.Event().wait(0.01)
        store.gate.set()
        for thread in threads:
            thread.join(5)
        assert [user.name.value for user in results] == ["KrishnaMohan"] * 5
        assert store.singles == ["KrishnaMohan"]

    def test_a_caller_whose_lookup_ended_at_anothers_deadline_asks_again_within_its_own(
        self,
    ) -> None:
        store = FakeStore("KrishnaMohan")
        store.honours_deadlines = True  # as the MySQL adapter does
        repo = CachingRepository(store, 10, 100, cap_s=5)
        store.gate.clear()
        outcomes: dict[str, object] = {}

        def lookup(who: str, seconds: float) -> None:
            with deadline_in(seconds, set_by_caller=True):
                try:
                    outcomes[who] = repo.get(Name("KrishnaMohan"))
                except RepositoryTimeout as error:
                    outcomes[who] = error

        first = threading.Thread(target=lookup, args=("first", 0.3))
        first.start()  # runs the query, held in the store past its 0.3 s
        assert store.entered.acquire(timeout=5)
        second = threading.Thread(target=lookup, args=("second", 10))
        second.start()  # waits for the first one's query
        assert store.entered.acquire(timeout=5)  # ...which ended: it asks again itself
        store.gate.set()
        first.join(5)
        second.join(5)
        assert isinstance(outcomes["first"], RepositoryTimeout)
        assert outcomes["second"] == user("KrishnaMohan")
        assert store.singles == ["KrishnaMohan", "KrishnaMohan"]
        assert repo._flights == {}

    def test_a_caller_that_arrives_after_a_commit_is_not_answered_by_an_older_query(
        self,
    ) -> None:
        """The TTL cache: a NOT_FOUND read before the user was added does not answer a call
        that arrived after, though that call shared the query."""
        store = ReadsThenHolds()
        repo = CachingRepository(store, 10, 100, cap_s=5)
        store.gate.clear()
        outcomes: dict[str, object] = {}

        def lookup(who: str) -> None:
            try:
                outcomes[who] = repo.get(Name("JustAdded"))
            except UserNotFound as error:
                outcomes[who] = error

        first = threading.Thread(target=lookup, args=("first",))
        first.start()  # its query read no such user, and is held
        assert store.entered.acquire(timeout=5)
        store.users["justadded"] = user("JustAdded")  # the AddService commits
        second = threading.Thread(target=lookup, args=("second",))
        second.start()  # the very next call: it shares the query under way
        while repo.stats.shared < 1:
            threading.Event().wait(0.01)
        store.gate.set()
        first.join(5)
        second.join(5)
        assert isinstance(outcomes["first"], UserNotFound)  # it asked before the commit
        assert outcomes["second"] == user("JustAdded")


class ReadsThenHolds(FakeStore):
    """Reads the row first, then holds the answer at the gate: a query that began before a
    commit and ends after it."""

    def get(self, name: Name) -> User:
        self.singles.append(name.value)
        lookup = self._lookup(name)
        self._enter()
        if isinstance(lookup, User):
            return lookup
        raise lookup


class TestBatches:
    def test_hits_come_from_the_cache_and_only_misses_from_one_query(self) -> None:
        store = FakeStore("KrishnaMohan", "GraceHopper")
        repo, _ = cache(store)
        repo.get(Name("KrishnaMohan"))
        lookups = repo.get_many([Name("GraceHopper"), Name("KrishnaMohan"), Name("NobodyAtAll")])
        grace, krishna, nobody = lookups
        assert isinstance(grace, User) and grace.name == Name("GraceHopper")
        assert isinstance(krishna, User) and krishna.name == Name("KrishnaMohan")
        assert isinstance(nobody, UserNotFound) and nobody.name == Name("NobodyAtAll")
        assert store.batches == [["GraceHopper", "NobodyAtAll"]]
        repo.get(Name("GraceHopper"))
        assert store.singles == ["KrishnaMohan"]


def _grace() -> User:
    return FakeStore("GraceHopper").users["gracehopper"]


class Observed:
    """What the metrics hear: (result, count) for each count the cache makes."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, int]] = []

    def cache_used(self, result: str, count: int) -> None:
        self.heard.append((result, count))


class TestWhatMetricsAndCallersSee:
    def test_every_lookup_is_heard_as_a_hit_or_a_miss_with_its_count(self) -> None:
        store = FakeStore("KrishnaMohan", "GraceHopper")
        observed = Observed()
        repo = CachingRepository(store, 10, 100, 0, FakeClock(), observed, cap_s=5)
        repo.get(Name("KrishnaMohan"))
        repo.get(Name("KrishnaMohan"))
        repo.get_many([Name("KrishnaMohan"), Name("GraceHopper"), Name("NobodyAtAll")])
        assert observed.heard == [("misses", 1), ("hits", 1), ("hits", 1), ("misses", 2)]

    def test_a_batch_of_cached_users_asks_the_store_nothing(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo, _ = cache(store)
        repo.get(Name("KrishnaMohan"))
        assert [u.name for u in repo.get_many([Name("KrishnaMohan")])] == [Name("KrishnaMohan")]
        assert store.batches == []

    def test_not_found_is_not_remembered_by_default_even_at_the_same_instant(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo, _ = cache(store)  # the fake clock never moves here
        with pytest.raises(UserNotFound):
            repo.get(Name("AddedLater1"))
        store.users["addedlater1"] = user("AddedLater1")
        assert repo.get(Name("AddedLater1")).name == Name("AddedLater1")

    def test_a_caller_waiting_on_anothers_lookup_leaves_at_its_own_deadline(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo = CachingRepository(store, 10, 100, 0, FakeClock(), cap_s=30)
        store.gate.clear()
        first = threading.Thread(target=repo.get, args=(Name("KrishnaMohan"),))
        first.start()
        assert store.entered.acquire(timeout=5)
        try:
            started = time.monotonic()
            with deadline_in(0.05, set_by_caller=True), pytest.raises(RepositoryTimeout) as raised:
                repo.get(Name("KrishnaMohan"))  # shares the lookup the store holds
            assert time.monotonic() - started < 10  # its own 0.05 s, not the 30 s cap
            assert raised.value.blames_store is False  # the caller's time, not the store's fault
        finally:
            store.gate.set()
            first.join(5)

    def test_names_nobody_has_never_push_a_found_user_out(self) -> None:
        store = FakeStore("KrishnaMohan")
        repo, _ = cache(store, size=1)
        repo.get(Name("KrishnaMohan"))
        for i in range(3):  # a caller trying names: none is remembered, so none evicts
            with pytest.raises(UserNotFound):
                repo.get(Name(f"NobodyAtAll{i}"))
        repo.get(Name("KrishnaMohan"))
        assert store.singles.count("KrishnaMohan") == 1

    def test_a_caller_without_a_deadline_waits_on_anothers_lookup_for_the_cap_only(self) -> None:
        store = FakeStore("KrishnaMohan")
        store.honours_deadlines = True  # as the MySQL adapter does
        repo = CachingRepository(store, 10, 100, 0, FakeClock(), cap_s=0.2)
        store.gate.clear()
        outcomes: list[object] = []

        def lookup() -> None:
            try:
                outcomes.append(repo.get(Name("KrishnaMohan")))
            except RepositoryTimeout as error:
                outcomes.append(error)

        first = threading.Thread(target=lookup)
        first.start()
        assert store.entered.acquire(timeout=5)
        waiter = threading.Thread(target=lookup)
        waiter.start()
        waiter.join(10)  # far past the 0.2 s cap; the store holds the lookup all along
        timed_out = list(outcomes)
        store.gate.set()
        first.join(5)
        waiter.join(5)
        assert [type(o) for o in timed_out] == [RepositoryTimeout, RepositoryTimeout]
