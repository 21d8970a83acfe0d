"""The GTID position the binlog follower has applied, on a real MariaDB: what a cache fill
reads after, when replicas answer lookups."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime

import pytest

from findsvc.adapters.mysql.binlog_follower import BinlogFollower
from findsvc.adapters.mysql.connection import binlog_connect_args
from findsvc.adapters.mysql.target import MySqlTarget
from findsvc.config import DatabaseUrl
from findsvc.domain.read_after import ReadAfter
from tests.support.db import database_of_its_own, insert_user
from tests.support.load import wait_for
from tests.support.replication import position

SINCE = datetime(2024, 1, 1, tzinfo=UTC)


class Told:
    def __init__(self) -> None:
        self.names: list[str] = []

    def names_changed(self, names: Collection[str]) -> None:
        self.names.extend(names)

    def forget_all(self) -> None:
        pass


@pytest.fixture
def binlog_db(binlog_mysql_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    with database_of_its_own(binlog_mysql_url, "findsvc_gtids") as url:
        yield url


def follower(url: DatabaseUrl, track_gtids: bool) -> BinlogFollower:
    target = MySqlTarget(url.host, url.port, url.user, url.database)
    args = binlog_connect_args(target, None, 2.0, 2.0)
    return BinlogFollower(args, lambda: b"", 2.0, track_gtids=track_gtids)


class TestAppliedPosition:
    def test_is_the_servers_position_once_its_changes_are_applied(
        self, binlog_db: DatabaseUrl
    ) -> None:
        told = Told()
        following = follower(binlog_db, track_gtids=True)
        following.start(told)
        try:
            wait_for(following.is_current, timeout_s=30)
            assert following.applied_position() == ReadAfter(position(binlog_db), "mariadb")
            for index in range(3):
                insert_user(binlog_db, f"GtidUser{index}", 9000000001, SINCE)
            wait_for(lambda: len(told.names) == 3, timeout_s=10)
            assert following.applied_position() == ReadAfter(position(binlog_db), "mariadb")
        finally:
            following.close()
        assert following.applied_position() is None  # not following: any store will do

    def test_is_not_kept_without_replicas(self, binlog_db: DatabaseUrl) -> None:
        following = follower(binlog_db, track_gtids=False)
        following.start(Told())
        try:
            wait_for(following.is_current, timeout_s=30)
            insert_user(binlog_db, "UntrackedUser", 9000000001, SINCE)
            assert following.applied_position() is None
        finally:
            following.close()
