"""findsvc when MySQL stops, hangs or kills every connection: health follows, calls fail fast,
and the server heals without leaking threads."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import grpc
import pytest

from devkit.server import ServerProcess, StartServer
from findsvc.config import DatabaseUrl
from tests.support.calls import (
    KRISHNA,
    NOT_SERVING,
    SERVING,
    find,
    health_status,
    readiness_is,
)
from tests.support.db import admin_connection, private_users_db, url_string
from tests.support.load import THREAD_JITTER, HealthWatch, Load, thread_count, wait_for
from tests.support.proxy import TcpProxy

NAMES = (KRISHNA, "NobodyByThisName")
CALLERS_DEADLINE_S = 30.0  # far past any bound below: a call that waits it out fails them


def outcomes_reach(load: Load, count: int, since: float = 0.0, *codes: grpc.StatusCode) -> None:
    """Waits until `count` calls started since `since` ended (with one of `codes`, if given)."""

    def ended() -> int:
        return sum(n for code, n in load.codes(since).items() if not codes or code in codes)

    wait_for(lambda: ended() >= count, 30)


def last_calls_unavailable(load: Load, count: int, since: float) -> bool:
    last = [o for o in list(load.outcomes) if o.started >= since][-count:]
    return len(last) == count and {o.code for o in last} == {grpc.StatusCode.UNAVAILABLE}


def outage_env(url: DatabaseUrl) -> dict[str, str]:
    """1 s cap on DB work, a check every second, as many workers as the tests' callers: the
    thread count under load is then steady, and a stuck worker would starve the callers."""
    return {
        "FINDSVC_DB_URL": url_string(url),
        "FINDSVC_HEALTH_INTERVAL_S": "1",
        "FINDSVC_DB_TIMEOUT_S": "1",
        "FINDSVC_WORKERS": "4",
    }


@pytest.fixture
def proxy(users_db: DatabaseUrl) -> Iterator[TcpProxy]:
    proxy = TcpProxy(users_db.host, users_db.port)
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_server(
    users_db: DatabaseUrl, proxy: TcpProxy, start_server: StartServer
) -> ServerProcess:
    """A server whose MySQL sits behind the proxy."""
    return start_server(outage_env(replace(users_db, host="127.0.0.1", port=proxy.port)))


@dataclass
class StoppableDatabase:
    url: DatabaseUrl
    stop: Callable[[], None]
    start: Callable[[], None]


@pytest.fixture
def stoppable_db(users_db: DatabaseUrl, proxy: TcpProxy) -> Iterator[StoppableDatabase]:
    """A MariaDB of this test's own that can really stop and restart, keeping its data."""
    if os.environ.get("FINDSVC_TEST_MYSQL_URL"):
        # A given server is shared and cannot be stopped: cut it off behind the proxy instead.
        url = replace(users_db, host="127.0.0.1", port=proxy.port)
        yield StoppableDatabase(url, proxy.down, proxy.up)
        return
    with private_users_db() as (mariadb, url):
        yield StoppableDatabase(url, mariadb.stop, mariadb.start)


class TestDatabaseOutage:
    def test_health_codes_and_threads_follow_a_database_stop_and_restart(
        self, stoppable_db: StoppableDatabase, start_server: StartServer
    ) -> None:
        server = start_server(outage_env(stoppable_db.url))
        pid = server.process.pid
        with server.channel() as channel:
            watch = HealthWatch(channel, "")
            with Load(server.target, NAMES, timeout_s=CALLERS_DEADLINE_S) as load:
                outcomes_reach(load, 8)  # every caller's thread and channel is up
                threads_before = thread_count(pid)

                stoppable_db.stop()
                down_at = time.monotonic()
                wait_for(lambda: readiness_is(server, NOT_SERVING), 20)
                assert health_status(channel, "liveness") == SERVING
                outcomes_reach(load, 8, down_at + 1, grpc.StatusCode.UNAVAILABLE)
                assert health_status(channel, "liveness") == SERVING

                restart_at = time.monotonic()  # the DB may answer before start() returns
                stoppable_db.start()
                wait_for(lambda: readiness_is(server, SERVING), 20)
                wait_for(lambda: find(channel, KRISHNA) == grpc.StatusCode.OK, 20)
                healed_at = time.monotonic()
                outcomes_reach(load, 8, healed_at)
            watch.close()
            threads_after = thread_count(pid)

        during = [o for o in load.outcomes if down_at + 1 <= o.started < restart_at - o.seconds]
        assert during, "no calls were made during the outage"
        assert {o.code for o in during} == {grpc.StatusCode.UNAVAILABLE}
        # Refused at once or cut at our 1 s cap; none waited for its caller's deadline.
        assert max(o.seconds for o in during) < CALLERS_DEADLINE_S / 6
        after = load.codes(since=healed_at)
        assert set(after) == {grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND}
        assert set(load.codes()) <= {
            grpc.StatusCode.OK,
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.UNAVAILABLE,
        }
        assert watch.distinct() == [SERVING, NOT_SERVING, SERVING]
        assert threads_after <= threads_before + THREAD_JITTER

    def test_a_hung_database_costs_callers_no_more_than_their_deadline_and_our_cap(
        self, proxied_server: ServerProcess, proxy: TcpProxy
    ) -> None:
        pid = proxied_server.process.pid
        with (
            proxied_server.channel() as channel,
            Load(proxied_server.target, NAMES, timeout_s=CALLERS_DEADLINE_S) as load,
        ):
            outcomes_reach(load, 8)  # every caller's thread and channel is up
            threads_before = thread_count(pid)
            proxy.hang()
            hung_at = time.monotonic()
            assert find(channel, KRISHNA, timeout_s=0.5) == (grpc.StatusCode.DEADLINE_EXCEEDED)
            wait_for(lambda: readiness_is(proxied_server, NOT_SERVING), 20)
            wait_for(lambda: last_calls_unavailable(load, 20, hung_at), 30)  # the breaker opened
            proxy.up()
            up_at = time.monotonic()
            wait_for(lambda: readiness_is(proxied_server, SERVING), 20)
            assert find(channel, KRISHNA) == grpc.StatusCode.OK
            outcomes_reach(load, 8, up_at, grpc.StatusCode.OK)
            threads_after = thread_count(pid)

        # No caller waited past our 1 s cap (plus the wait for a pooled connection that the
        # same cap bounds), however long its own deadline.
        hung = [o for o in load.outcomes if hung_at <= o.started < up_at]
        assert max(o.seconds for o in hung) < CALLERS_DEADLINE_S / 6
        # Our cap, not the callers' 30 s deadline, ended the first calls: the server's own
        # DEADLINE_EXCEEDED (a hung database is a timeout), then UNAVAILABLE (the breaker).
        assert {o.code for o in hung} == {
            grpc.StatusCode.DEADLINE_EXCEEDED,
            grpc.StatusCode.UNAVAILABLE,
        }
        # Once the breaker is open, answers come without waiting for the 1 s cap.
        last = hung[-20:]
        assert {o.code for o in last} == {grpc.StatusCode.UNAVAILABLE}
        assert max(o.seconds for o in last) < 1.0
        assert threads_after <= threads_before + THREAD_JITTER


class TestKilledConnections:
    def test_the_call_after_the_database_killed_every_connection_succeeds(
        self, server: ServerProcess, users_db: DatabaseUrl
    ) -> None:
        with server.channel() as channel:
            for _ in range(4):
                assert find(channel, KRISHNA) == grpc.StatusCode.OK
            with admin_connection(users_db) as conn, conn.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM information_schema.processlist"
                    " WHERE db = %s AND id <> CONNECTION_ID()",
                    (users_db.database,),
                )
                ids = [row[0] for row in cursor.fetchall()]
                for connection_id in ids:
                    cursor.execute("KILL CONNECTION %s", (connection_id,))
            assert ids
            assert [find(channel, KRISHNA) for _ in range(4)] == [grpc.StatusCode.OK] * 4
