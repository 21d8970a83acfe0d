"""The binlog cache as `serve` wires it, on a real MariaDB writing a row-based binlog: the
promise that a user added is found by the very next lookup holds under load."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from findsvc.bootstrap import build_serving_repository
from findsvc.config import DatabaseUrl, Settings
from findsvc.domain.model import Name, UserNotFound
from findsvc.domain.ports import CheckedRepository
from findsvc.telemetry.metrics import Metrics
from tests.support.db import admin_connection, database_of_its_own, insert_user
from tests.support.load import wait_for

SINCE = datetime(2024, 1, 1, tzinfo=UTC)
WRITERS = 8
ADDED_PER_WRITER = 250  # 2,000 users added, each looked up at once
HOT_READERS = 4


@pytest.fixture
def binlog_db(binlog_mysql_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    with database_of_its_own(binlog_mysql_url, "findsvc_binlog") as url:
        yield url


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
def followed(binlog_db: DatabaseUrl, metrics: Metrics) -> Iterator[CheckedRepository]:
    settings = Settings(db_url=binlog_db, cache_mode="binlog", db_pool_size=4, workers=8)
    users = build_serving_repository(settings, cache_observer=metrics)
    try:
        wait_for(lambda: _following(metrics) == 1, timeout_s=30)
        yield users
    finally:
        users.close()


def _following(metrics: Metrics) -> float | None:
    return metrics.registry.get_sample_value(
        "findsvc_binlog_follower_state", {"state": "following"}
    )


def _not_found(users: CheckedRepository, name: str) -> bool:
    try:
        users.get(Name(name))
    except UserNotFound:
        return True
    return False


class TestTheVeryNextLookup:
    def test_finds_a_user_added_right_after_a_cached_not_found_thousands_of_times_under_load(
        self, followed: CheckedRepository, binlog_db: DatabaseUrl, metrics: Metrics
    ) -> None:
        insert_user(binlog_db, "HotUser00001", 9000000001, SINCE)
        stop = threading.Event()

        def hot_reader(index: int) -> int:
            lookups = 0
            while not stop.is_set():
                assert followed.get(Name("HotUser00001")).phone.value == 9000000001
                assert _not_found(followed, f"NeverAdded{index:03d}")
                lookups += 2
            return lookups

        def writer(index: int) -> list[str]:
            missed = []
            with admin_connection(binlog_db, binlog_db.database) as conn, conn.cursor() as cur:
                for i in range(ADDED_PER_WRITER):
                    name = f"Added{index:02d}x{i:05d}"
                    assert _not_found(followed, name)
                    assert _not_found(followed, name)  # now from the cache, once caught up
                    cur.execute(
                        "INSERT INTO ums_users (name, phone, since) VALUES (%s, %s, %s)",
                        (name, 9000000000 + i, SINCE.replace(tzinfo=None)),
                    )
                    for asked in (name, name.upper()):
                        if _not_found(followed, asked):
                            missed.append(asked)
            return missed

        with ThreadPoolExecutor(WRITERS + HOT_READERS) as pool:
            readers = [pool.submit(hot_reader, i) for i in range(HOT_READERS)]
            writers = [pool.submit(writer, i) for i in range(WRITERS)]
            missed = [name for done in writers for name in done.result(timeout=300)]
            stop.set()
            hot_lookups = sum(done.result(timeout=30) for done in readers)

        assert missed == []
        hits = metrics.registry.get_sample_value("findsvc_cache_lookups_total", {"result": "hits"})
        assert hits is not None and hits >= WRITERS * ADDED_PER_WRITER  # the cached NOT_FOUNDs
        assert hot_lookups > 0
        events = metrics.registry.get_sample_value("findsvc_binlog_events_applied_total")
        assert events is not None and events >= WRITERS * ADDED_PER_WRITER
