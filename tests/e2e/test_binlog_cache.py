"""The binlog cache, on by default where the binlog can be read: a `findsvc serve` as shipped
against a MariaDB writing a row-based binlog."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from devkit.server import ServerProcess, serving
from findsvc.config import DatabaseUrl
from tests.support.calls import find, find_user
from tests.support.db import url_string
from tests.support.load import wait_for
from tests.support.metrics import follower_state, log_messages, metrics_port, scrape, value

SINCE = datetime(2024, 1, 1, tzinfo=UTC)
EXIT_CONFIG = 2


@pytest.fixture(scope="module")
def server(binlog_db: DatabaseUrl) -> Iterator[ServerProcess]:
    """As shipped: FINDSVC_CACHE_MODE is auto."""
    with serving({"FINDSVC_DB_URL": url_string(binlog_db)}) as process:
        wait_for(lambda: follower_state(process, "following") == 1, timeout_s=30)
        yield process


def _queries_for(cursor: Any, name: str) -> int:
    """Lookups of `name` the server ran, from its general log."""
    cursor.execute(
        "SELECT COUNT(*) FROM mysql.general_log WHERE argument LIKE %s",
        (f"SELECT name, phone, since FROM ums_users WHERE name = '{name}'%",),
    )
    return int(cursor.fetchone()[0])


@pytest.fixture
def query_log(sql: Any) -> Iterator[Any]:
    sql.execute("SET GLOBAL log_output = 'TABLE'")
    sql.execute("SET GLOBAL general_log = 1")
    yield sql
    sql.execute("SET GLOBAL general_log = 0")
    sql.execute("TRUNCATE mysql.general_log")


def _phone(server: ServerProcess, name: str) -> int | None:
    try:
        return int(find_user(server, name).phone)
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND
        return None


def _add(cursor: Any, name: str, phone: int) -> None:
    cursor.execute(
        "INSERT INTO ums_users (name, phone, since) VALUES (%s, %s, %s)",
        (name, phone, SINCE.replace(tzinfo=None)),
    )


class TestAsShipped:
    def test_auto_follows_the_binlog_and_says_so_once(self, server: ServerProcess) -> None:
        chosen = [m for m in log_messages(server) if m.startswith("cache: ")]
        assert len(chosen) == 1 and chosen[0].startswith("cache: binlog (auto: ")
        assert value(scrape(metrics_port(server)), "findsvc_cache_mode", mode="binlog") == 1

    def test_hot_lookups_cost_no_query(self, server: ServerProcess, query_log: Any) -> None:
        _add(query_log, "HotLookup001", 9000000001)
        for _ in range(50):
            assert _phone(server, "HotLookup001") == 9000000001
        assert _queries_for(query_log, "HotLookup001") == 1

    def test_a_user_added_after_a_cached_not_found_is_found_by_the_next_call(
        self, server: ServerProcess, sql: Any
    ) -> None:
        for i in range(30):
            name = f"AddedLate{i:03d}"
            assert _phone(server, name) is None
            assert _phone(server, name) is None
            _add(sql, name, 9000000000 + i)
            assert _phone(server, name) == 9000000000 + i

    def test_a_changed_phone_is_served_within_the_lag(
        self, server: ServerProcess, sql: Any
    ) -> None:
        _add(sql, "ChangedUser1", 9000000001)
        assert _phone(server, "ChangedUser1") == 9000000001
        sql.execute("UPDATE ums_users SET phone = 9000000002 WHERE name = 'ChangedUser1'")
        wait_for(lambda: _phone(server, "ChangedUser1") == 9000000002, timeout_s=10)

    def test_a_deleted_user_is_not_found_within_the_lag(
        self, server: ServerProcess, sql: Any
    ) -> None:
        _add(sql, "DeletedUser1", 9000000001)
        assert _phone(server, "DeletedUser1") == 9000000001
        sql.execute("DELETE FROM ums_users WHERE name = 'DeletedUser1'")
        wait_for(lambda: _phone(server, "DeletedUser1") is None, timeout_s=10)

    def test_every_spelling_the_collation_calls_equal_sees_a_change(
        self, server: ServerProcess, sql: Any
    ) -> None:
        _add(sql, "SpelledUser1", 9000000001)
        spellings = ("SpelledUser1", "spelleduser1", "SPÉLLEDUSER1", "Spelleduser1")
        assert [_phone(server, spelling) for spelling in spellings] == [9000000001] * 4
        sql.execute("UPDATE ums_users SET phone = 9000000002 WHERE name = 'SpelledUser1'")
        wait_for(lambda: [_phone(server, s) for s in spellings] == [9000000002] * 4, timeout_s=10)

    def test_a_cut_feed_fails_no_call_and_the_cache_starts_again_empty(
        self, server: ServerProcess, query_log: Any
    ) -> None:
        _add(query_log, "CutFeedUser1", 9000000001)
        assert _phone(server, "CutFeedUser1") == 9000000001
        assert _phone(server, "CutFeedUser1") == 9000000001
        assert _queries_for(query_log, "CutFeedUser1") == 1
        dump = _dump_threads(query_log)
        assert len(dump) == 1
        failed: list[grpc.StatusCode] = []
        stop = threading.Event()

        def keep_calling() -> None:
            with server.channel() as channel:
                while not stop.is_set():
                    code = find(channel, "CutFeedUser1")
                    if code != grpc.StatusCode.OK:
                        failed.append(code)

        caller = threading.Thread(target=keep_calling)
        caller.start()
        try:
            query_log.execute("KILL %s", (dump[0],))
            wait_for(lambda: _dump_threads(query_log) not in ([], dump), timeout_s=30)
            wait_for(lambda: follower_state(server, "following") == 1, timeout_s=30)
        finally:
            stop.set()
            caller.join(30)
        assert failed == []
        assert any(m.startswith("binlog cache: feed lost") for m in log_messages(server))
        # Cached before the cut, asked of the database again after it: the cache forgot;
        # and once the follower is back, cached again.
        assert _phone(server, "CutFeedUser1") == 9000000001
        asked_again = _queries_for(query_log, "CutFeedUser1")
        assert asked_again > 1
        assert _phone(server, "CutFeedUser1") == 9000000001
        assert _queries_for(query_log, "CutFeedUser1") == asked_again


def _dump_threads(cursor: Any) -> list[int]:
    cursor.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'")
    return [int(row[0]) for row in cursor.fetchall()]

    def test_a_truncated_table_writes_no_row_events_yet_empties_the_cache(
        self, server: ServerProcess, sql: Any
    ) -> None:
        _add(sql, "Truncated001", 9000000001)
        assert _phone(server, "Truncated001") == 9000000001
        sql.execute("TRUNCATE TABLE ums_users")
        wait_for(lambda: _phone(server, "Truncated001") is None, timeout_s=10)
