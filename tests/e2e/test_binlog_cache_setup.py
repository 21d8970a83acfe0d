"""Where the binlog cache can run and where not: a server without a binlog, an account
without the grants, and several processes, each with a follower and a cache of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import grpc

from devkit.server import ServerProcess
from findsvc.config import DatabaseUrl
from findsvc.config.database_url import parse_database_url
from tests.support.calls import KRISHNA, find, findsvc
from tests.support.db import url_string
from tests.support.load import wait_for
from tests.support.metrics import (
    follower_state,
    log_messages,
    metrics_port,
    scrape,
    value,
    wait_for_log,
)
from tests.support.proxy import TcpProxy

EXIT_CONFIG = 2


class TestWithoutABinlog:
    def test_auto_turns_the_cache_off_and_says_why(
        self, start_server: Any, users_db_url: str
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": users_db_url})
        chosen = [m for m in log_messages(server) if m.startswith("cache: ")]
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
        chosen = [m for m in log_messages(server) if m.startswith("cache: ")]
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
        wait_for(lambda: follower_state(server, "following") == 1, timeout_s=30)


class TestADatabaseAwayAtStart:
    """auto checks the binlog once the database can be reached, not only at start: a pod
    started during an outage gets the cache as soon as it is back."""

    def test_auto_follows_once_the_binlog_can_be_read(
        self, start_server: Any, binlog_db: DatabaseUrl
    ) -> None:
        with _away(binlog_db) as (proxy, url):
            server = start_server({"FINDSVC_DB_URL": url_string(url)}, wait=False)
            wait_for_log(server, "cache: binlog (auto: the database could not", timeout_s=30)
            proxy.up()
            wait_for(lambda: follower_state(server, "following") == 1, timeout_s=30)
            assert value(scrape(metrics_port(server)), "findsvc_cache_mode", mode="binlog") == 1

    def test_auto_turns_the_cache_off_once_it_sees_no_binlog(
        self, start_server: Any, users_db_url: str
    ) -> None:
        with _away(parse_database_url(users_db_url)) as (proxy, url):
            server = start_server({"FINDSVC_DB_URL": url_string(url)}, wait=False)
            wait_for_log(server, "cache: binlog (auto: the database could not", timeout_s=30)
            proxy.up()
            wait_for_log(server, "cache: off (auto: the server writes no", timeout_s=30)
            samples = scrape(metrics_port(server))
            assert value(samples, "findsvc_cache_mode", mode="off") == 1
            assert value(samples, "findsvc_binlog_follower_state") == 0  # no alert fires
            server.wait_health(timeout_s=30)  # once the breaker lets the database be asked
            with server.channel() as channel:
                assert find(channel, KRISHNA) == grpc.StatusCode.OK


@contextmanager
def _away(db: DatabaseUrl) -> Iterator[tuple[TcpProxy, DatabaseUrl]]:
    """`db` behind a proxy that is down: up() brings it back."""
    proxy = TcpProxy(db.host, db.port)
    proxy.down()
    try:
        yield proxy, replace(db, host="127.0.0.1", port=proxy.port)
    finally:
        proxy.close()


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


class TestSeveralProcesses:
    def test_each_process_follows_and_finds_a_user_added_after_a_cached_not_found(
        self, start_server: Any, binlog_db: DatabaseUrl, sql: Any
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": url_string(binlog_db), "FINDSVC_PROCESSES": "2"})
        wait_for(lambda: follower_state(server, "following") == 2, timeout_s=30)
        for i in range(20):
            name = f"TwoProcs{i:04d}"
            # A channel per call: SO_REUSEPORT spreads them over both processes.
            for _ in range(4):
                with server.channel() as channel:
                    assert find(channel, name) == grpc.StatusCode.NOT_FOUND
            sql.execute(
                "INSERT INTO ums_users (name, phone, since) VALUES (%s, 9000000001, NOW())",
                (name,),
            )
            for _ in range(4):
                with server.channel() as channel:
                    assert find(channel, name) == grpc.StatusCode.OK
