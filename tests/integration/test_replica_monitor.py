"""The replica checks against a real primary and replica: lag from GTID positions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.mariadb import free_port
from findsvc.adapters.mysql.replicas import MySqlReplica, ReplicaMonitor
from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.adapters.mysql.target import MySqlTarget
from findsvc.config import DatabaseUrl
from findsvc.domain.read_after import ReadAfter
from tests.support.calls import KRISHNA_PHONE, KRISHNA_SINCE
from tests.support.db import insert_user
from tests.support.replication import (
    Replicated,
    applied,
    position,
    replicated_users_db,
    replication,
)
from tests.unit.fakes import FakeClock

MAX_LAG_S = 5.0


class Verdicts:
    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, float | None]] = []

    def replica_checked(self, replica: str, healthy: bool, lag_s: float | None) -> None:
        self.seen.append((replica, healthy, lag_s))


def server(url: DatabaseUrl) -> MySqlUserRepository:
    target = MySqlTarget(url.host, url.port, url.user, url.database)
    return MySqlUserRepository(target, None, 2, connect_timeout_s=1, query_timeout_s=2)


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    with replicated_users_db() as pair:
        yield pair


@pytest.fixture
def replica(replicated: Replicated) -> MySqlReplica:
    reads = server(replicated.replica_url)
    return MySqlReplica("the-replica", reads, reads)


def monitor(
    primary: MySqlUserRepository, replica: MySqlReplica, clock: FakeClock, verdicts: Verdicts
) -> ReplicaMonitor:
    return ReplicaMonitor(
        primary, [replica], interval_s=1.0, max_lag_s=MAX_LAG_S, observer=verdicts, clock=clock
    )


class TestLag:
    def test_a_caught_up_replica_is_healthy_with_no_lag(
        self, replicated: Replicated, replica: MySqlReplica
    ) -> None:
        verdicts = Verdicts()
        monitor(server(replicated.primary_url), replica, FakeClock(), verdicts).check()
        assert verdicts.seen == [("the-replica", True, 0.0)]
        assert replica.healthy

    def test_a_stalled_replica_is_out_once_behind_by_its_lag_limit_and_back_when_caught_up(
        self, replicated: Replicated, replica: MySqlReplica
    ) -> None:
        clock, verdicts = FakeClock(1000.0), Verdicts()
        checks = monitor(server(replicated.primary_url), replica, clock, verdicts)
        checks.check()  # at 1000 it has everything
        replication(replicated.replica_url, "STOP SLAVE SQL_THREAD")
        try:
            insert_user(replicated.primary_url, "StalledWrite1", KRISHNA_PHONE, KRISHNA_SINCE)
            clock.now = 1001.0
            checks.check()  # the write is at most a second old
            assert (verdicts.seen[-1], replica.healthy) == (("the-replica", True, 1.0), True)
            clock.now = 1000.0 + MAX_LAG_S + 1
            checks.check()
            assert verdicts.seen[-1] == ("the-replica", False, MAX_LAG_S + 1)
            assert not replica.healthy
        finally:
            replication(replicated.replica_url, "START SLAVE SQL_THREAD")
        assert applied(replicated.replica_url, position(replicated.primary_url), wait_s=30)
        clock.now += 1
        checks.check()
        assert (verdicts.seen[-1], replica.healthy) == (("the-replica", True, 0.0), True)


class TestReachability:
    def test_an_unreachable_replica_is_out_of_service(self, replicated: Replicated) -> None:
        nowhere = server(DatabaseUrl("mysql", host="127.0.0.1", port=free_port(), user="root"))
        replica = MySqlReplica("gone", nowhere, nowhere)
        replica.checked(healthy=True)
        verdicts = Verdicts()
        monitor(server(replicated.primary_url), replica, FakeClock(), verdicts).check()
        assert (verdicts.seen, replica.healthy) == ([("gone", False, None)], False)

    def test_with_the_primary_unreachable_a_reachable_replica_keeps_serving(
        self, replicated: Replicated, replica: MySqlReplica
    ) -> None:
        nowhere = DatabaseUrl("mysql", host="127.0.0.1", port=free_port(), user="root")
        verdicts = Verdicts()
        monitor(server(nowhere), replica, FakeClock(), verdicts).check()
        assert verdicts.seen == [("the-replica", True, None)]


class TestHasApplied:
    """A binlog cache's miss asks whether a replica has applied what the follower told."""

    def test_a_position_its_last_check_found_applied_costs_no_query(
        self, replicated: Replicated, replica: MySqlReplica
    ) -> None:
        monitor(server(replicated.primary_url), replica, FakeClock(), Verdicts()).check()
        checked = ReadAfter(position(replicated.primary_url), "mariadb")
        asked: list[str] = []
        replica.server.select_value = lambda sql, args=(): asked.append(sql)  # type: ignore[method-assign]
        assert replica.has_applied(checked, 0)
        assert asked == []

    def test_a_newer_position_is_asked_of_the_replica(
        self, replicated: Replicated, replica: MySqlReplica
    ) -> None:
        monitor(server(replicated.primary_url), replica, FakeClock(), Verdicts()).check()
        insert_user(replicated.primary_url, "HasAppliedNewer", KRISHNA_PHONE, KRISHNA_SINCE)
        newer = ReadAfter(position(replicated.primary_url), "mariadb")
        assert replica.has_applied(newer, 10)  # waits for the replica, which applies it
        replication(replicated.replica_url, "STOP SLAVE SQL_THREAD")
        try:
            insert_user(replicated.primary_url, "HasAppliedStalled", KRISHNA_PHONE, KRISHNA_SINCE)
            stalled = ReadAfter(position(replicated.primary_url), "mariadb")
            assert not replica.has_applied(stalled, 0)
        finally:
            replication(replicated.replica_url, "START SLAVE SQL_THREAD")
