"""Reads from replicas: found users from a replica, misses confirmed on the primary."""

from __future__ import annotations

from dataclasses import replace

import pytest

from findsvc.domain import deadline
from findsvc.domain.model import Name, User, UserNotFound
from findsvc.domain.ports import RepositoryTimeout, RepositoryUnavailable
from findsvc.domain.read_after import ReadAfter, reading_after
from findsvc.policies.replica_reads import PRIMARY, ReplicaReads
from tests.unit.fakes import FakeReplica, FakeStore

KNOWN = "KrishnaMohan"
NEW = "JustAddedUser"  # on the primary, not yet on the replicas
NOBODY = "NobodyByThisName"


class Counts:
    def __init__(self) -> None:
        self.lookups: dict[str, int] = {}
        self.rechecked = 0

    def looked_up(self, target: str, count: int) -> None:
        self.lookups[target] = self.lookups.get(target, 0) + count

    def misses_rechecked(self, count: int) -> None:
        self.rechecked += count


@pytest.fixture
def primary() -> FakeStore:
    return FakeStore(KNOWN, NEW)


@pytest.fixture
def replicas() -> list[FakeReplica]:
    return [FakeReplica("replica-a", KNOWN), FakeReplica("replica-b", KNOWN)]


@pytest.fixture
def counts() -> Counts:
    return Counts()


@pytest.fixture
def reads(primary: FakeStore, replicas: list[FakeReplica], counts: Counts) -> ReplicaReads:
    return ReplicaReads(primary, replicas, counts, cap_s=5.0, max_wait_s=1.0)


def names(*values: str) -> list[Name]:
    return [Name(value) for value in values]


class TestLookups:
    def test_a_found_user_is_answered_by_a_replica_alone(
        self, reads: ReplicaReads, primary: FakeStore, counts: Counts
    ) -> None:
        assert reads.get(Name(KNOWN)).name == Name(KNOWN)
        assert primary.singles == []
        assert sum(counts.lookups.values()) == 1

    def test_lookups_take_turns_over_the_healthy_replicas(
        self, reads: ReplicaReads, replicas: list[FakeReplica]
    ) -> None:
        for _ in range(4):
            reads.get(Name(KNOWN))
        assert [len(replica.singles) for replica in replicas] == [2, 2]

    def test_a_name_a_replica_lacks_is_asked_of_the_primary(
        self, reads: ReplicaReads, primary: FakeStore, counts: Counts
    ) -> None:
        assert reads.get(Name(NEW)).name == Name(NEW)
        assert primary.singles == [NEW]
        assert (counts.rechecked, counts.lookups[PRIMARY]) == (1, 1)

    def test_not_found_only_after_the_primary_says_so(
        self, reads: ReplicaReads, primary: FakeStore
    ) -> None:
        with pytest.raises(UserNotFound):
            reads.get(Name(NOBODY))
        assert primary.singles == [NOBODY]

    def test_a_batch_asks_the_primary_for_all_its_misses_in_one_query(
        self, reads: ReplicaReads, primary: FakeStore
    ) -> None:
        lookups = reads.get_many(names(NEW, KNOWN, NOBODY))
        assert primary.batches == [[NEW, NOBODY]]
        assert [type(lookup) for lookup in lookups] == [User, User, UserNotFound]
        assert isinstance(lookups[0], User) and lookups[0].name == Name(NEW)

    def test_a_batch_found_whole_on_a_replica_never_reaches_the_primary(
        self, reads: ReplicaReads, primary: FakeStore
    ) -> None:
        reads.get_many(names(KNOWN, KNOWN))
        assert primary.batches == []


class TestFailures:
    def test_an_unhealthy_replica_gets_no_reads(
        self, reads: ReplicaReads, replicas: list[FakeReplica]
    ) -> None:
        replicas[0].healthy = False
        for _ in range(3):
            reads.get(Name(KNOWN))
        assert [len(replica.singles) for replica in replicas] == [0, 3]

    def test_with_no_healthy_replica_the_primary_answers(
        self, reads: ReplicaReads, replicas: list[FakeReplica], primary: FakeStore
    ) -> None:
        for replica in replicas:
            replica.healthy = False
        reads.get_many(names(KNOWN))
        assert primary.batches == [[KNOWN]]

    def test_a_replica_that_fails_under_a_call_costs_it_a_retry_elsewhere(
        self, reads: ReplicaReads, replicas: list[FakeReplica], primary: FakeStore
    ) -> None:
        for replica in replicas:
            replica.down = True
        assert reads.get(Name(KNOWN)).name == Name(KNOWN)
        assert [replica.healthy for replica in replicas] == [False, False]
        assert primary.singles == [KNOWN]

    def test_a_caller_deadline_that_runs_out_is_not_retried(
        self, primary: FakeStore, counts: Counts
    ) -> None:
        class OutOfTime(FakeReplica):
            def get(self, name: Name) -> User:
                raise RepositoryTimeout("caller's deadline", blames_store=False)

        replica = OutOfTime("replica-a", KNOWN)
        reads = ReplicaReads(primary, [replica], counts, cap_s=5.0, max_wait_s=1.0)
        with pytest.raises(RepositoryTimeout):
            reads.get(Name(KNOWN))
        assert (replica.healthy, primary.singles) == (True, [])

    def test_with_the_primary_down_a_found_user_is_still_answered(
        self, reads: ReplicaReads, primary: FakeStore
    ) -> None:
        primary.down = True
        assert reads.get(Name(KNOWN)).name == Name(KNOWN)

    def test_with_the_primary_down_a_miss_is_unavailable_not_not_found(
        self, reads: ReplicaReads, primary: FakeStore
    ) -> None:
        primary.down = True
        with pytest.raises(RepositoryUnavailable):
            reads.get(Name(NEW))
        with pytest.raises(RepositoryUnavailable):
            reads.get_many(names(KNOWN, NEW))


class TestReadiness:
    def test_ready_while_the_primary_answers(
        self, reads: ReplicaReads, replicas: list[FakeReplica]
    ) -> None:
        for replica in replicas:
            replica.healthy = False
        reads.ping()

    def test_ready_while_a_replica_answers_for_a_primary_that_is_down(
        self, reads: ReplicaReads, replicas: list[FakeReplica], primary: FakeStore
    ) -> None:
        primary.down = True
        replicas[0].healthy = False
        reads.ping()

    def test_not_ready_when_neither_can_answer(
        self, reads: ReplicaReads, replicas: list[FakeReplica], primary: FakeStore
    ) -> None:
        primary.down = True
        for replica in replicas:
            replica.healthy = False
        with pytest.raises(RepositoryUnavailable):
            reads.ping()


POSITION = ReadAfter.parse("0-1-42")


class TestReadAfter:
    def test_a_replica_that_applied_the_position_answers(
        self, reads: ReplicaReads, replicas: list[FakeReplica], primary: FakeStore
    ) -> None:
        replicas[0].applied.add(POSITION.position)
        with reading_after(POSITION):
            reads.get(Name(KNOWN))
        assert (len(replicas[0].singles), primary.singles) == (1, [])

    def test_no_replica_applied_it_so_the_primary_answers(
        self, reads: ReplicaReads, replicas: list[FakeReplica], primary: FakeStore
    ) -> None:
        with reading_after(POSITION):
            reads.get(Name(KNOWN))
        assert primary.singles == [KNOWN]
        assert [replica.singles for replica in replicas] == [[], []]

    def test_only_the_first_replica_waits_and_for_at_most_half_the_budget(
        self, reads: ReplicaReads, replicas: list[FakeReplica]
    ) -> None:
        with deadline.deadline_in(0.5), reading_after(POSITION):
            reads.get(Name(KNOWN))
        waits = sorted((replica.waits for replica in replicas), key=len)
        first = max(replicas, key=lambda replica: replica.waits[0]).waits[0]
        assert 0 < first <= 0.25
        assert sorted(wait for each in waits for wait in each) == [0.0, first]

    def test_a_position_that_says_how_long_to_wait_is_waited_for_no_longer(
        self, reads: ReplicaReads, replicas: list[FakeReplica]
    ) -> None:
        with deadline.deadline_in(5), reading_after(replace(POSITION, max_wait_s=0.05)):
            reads.get(Name(KNOWN))
        assert max(wait for replica in replicas for wait in replica.waits) == 0.05

    def test_the_wait_is_capped_by_the_lag_limit(
        self, reads: ReplicaReads, replicas: list[FakeReplica]
    ) -> None:
        with reading_after(POSITION):
            reads.get(Name(KNOWN))
        assert max(wait for replica in replicas for wait in replica.waits) == 1.0
