"""The binlog cache, on by default where the binlog can be read: a `findsvc serve` against a
MariaDB writing a row-based binlog, and against one writing none."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from devkit.server import ServerProcess, serving
from findsvc.config import DatabaseUrl
from tests.support.calls import find, find_user, findsvc
from tests.support.db import admin_connection, create_database, url_string
from tests.support.load import wait_for
from tests.support.metrics import log_entries, metrics_port, scrape, value

SINCE = datetime(2024, 1, 1, tzinfo=UTC)
EXIT_CONFIG = 2


@pytest.fixture(scope="module")
def binlog_db(binlog_mysql_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    url = replace(binlog_mysql_url, database=f"findsvc_binlog_e2e_{uuid.uuid4().hex[:12]}")
    create_database(url)
    yield url
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE `{url.database}`")


@pytest.fixture(scope="module")
def server(binlog_db: DatabaseUrl) -> Iterator[ServerProcess]:
    """As shipped: FINDSVC_CACHE_MODE is auto."""
    with serving({"FINDSVC_DB_URL": url_string(binlog_db)}) as process:
        wait_for(lambda: _state(process, "following") == 1, timeout_s=30)
        yield process


@pytest.fixture
def sql(binlog_db: DatabaseUrl) -> Iterator[Any]:
    """A cursor on the users' database, as the AddService writes."""
    with admin_connection(binlog_db, binlog_db.database) as conn, conn.cursor() as cursor:
        yield cursor


def _state(server: ServerProcess, state: str) -> float:
    return value(scrape(metrics_port(server)), "findsvc_binlog_follower_state", state=state)


def _messages(server: ServerProcess) -> list[str]:
    return [str(entry.get("message", "")) for entry in log_entries(server)]


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
        chosen = [m for m in _messages(server) if m.startswith("cache: ")]
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
            wait_for(lambda: _state(server, "following") == 1, timeout_s=30)
        finally:
            stop.set()
            caller.join(30)
        assert failed == []
        assert any(m.startswith("binlog cache: feed lost") for m in _messages(server))
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


class TestWithoutABinlog:
    def test_auto_turns_the_cache_off_and_says_why(
        self, start_server: Any, users_db_url: str
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": users_db_url})
        chosen = [m for m in _messages(server) if m.startswith("cache: ")]
        assert chosen == [
            "cache: off (auto: the server writes no binlog: start it with log_bin"
            " (see docs/cache.md))"
        ]

    def test_binlog_asked_for_is_a_config_error_that_says_what_is_missing(
        self, users_db_url: str
    ) -> None:
        env = {"FINDSVC_DB_URL": users_db_url, "FINDSVC_CACHE_MODE": "binlog"}
        with ServerProcess(env) as server:
            assert server.process.wait(timeout=60) == EXIT_CONFIG
            lines = server.logs.strip().splitlines()
        assert lines[-1] == (
            "findsvc: FINDSVC_CACHE_MODE=binlog: the server writes no binlog: start it with"
            " log_bin (see docs/cache.md)"
        )

    def test_binlog_asked_for_with_sqlite_is_a_config_error(self, tmp_path: Any) -> None:
        result = findsvc(
            "serve",
            env={
                "FINDSVC_DB_URL": f"sqlite:///{tmp_path}/users.db",
                "FINDSVC_CACHE_MODE": "binlog",
            },
        )
        assert result.returncode == EXIT_CONFIG
        assert result.stderr.strip().splitlines()[-1].endswith("SQLite has no binlog")


class TestTheAccount:
    def test_a_read_only_account_gets_no_binlog_cache_and_binlog_says_which_grant(
        self, start_server: Any, binlog_db: DatabaseUrl, sql: Any
    ) -> None:
        account = _account(sql, binlog_db, binlog=None)
        server = start_server({"FINDSVC_DB_URL": url_string(account)})
        chosen = [m for m in _messages(server) if m.startswith("cache: ")]
        assert chosen[0].startswith(
            "cache: off (auto: the account may not read the binlog position"
        )
        env = {"FINDSVC_DB_URL": url_string(account), "FINDSVC_CACHE_MODE": "binlog"}
        with ServerProcess(env) as refused:
            assert refused.process.wait(timeout=60) == EXIT_CONFIG
            assert "findsvc db grant USER --binlog mariadb" in refused.logs.splitlines()[-1]

    def test_the_grants_db_grant_prints_are_enough_to_follow(
        self, start_server: Any, binlog_db: DatabaseUrl, sql: Any
    ) -> None:
        account = _account(sql, binlog_db, binlog="mariadb")
        server = start_server({"FINDSVC_DB_URL": url_string(account)})
        wait_for(lambda: _state(server, "following") == 1, timeout_s=30)


def _account(cursor: Any, db: DatabaseUrl, binlog: str | None) -> DatabaseUrl:
    """A new account made by running what `findsvc db grant` prints."""
    user = f"fs{uuid.uuid4().hex[:10]}"
    args = [user, "--host", "127.0.0.1", "--database", db.database]
    printed = findsvc("db", "grant", *args, *(["--binlog", binlog] if binlog else []))
    assert printed.returncode == 0
    sql = printed.stdout.replace("<PASSWORD>", "'pw-for-test'")
    for statement in sql.split(";\n"):
        lines = [line for line in statement.splitlines() if not line.startswith("--")]
        if "".join(lines).strip():
            cursor.execute("\n".join(lines))
    return replace(db, user=user, password="pw-for-test")
