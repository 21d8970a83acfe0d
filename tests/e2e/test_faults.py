"""findsvc when MySQL fails or hangs, under load, with a full server and a shutdown under way."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import grpc
import pytest
from grpc_health.v1 import health_pb2

from findsvc.config import DatabaseUrl, parse_database_url
from tests.support.db import admin_connection, create_database, insert_user, url_string
from tests.support.load import (
    THREAD_JITTER,
    HealthWatch,
    Load,
    find,
    health_status,
    thread_count,
    wait_for,
)
from tests.support.mariadb import PrivateMariaDB
from tests.support.metrics import metrics_port, scrape, value
from tests.support.proxy import TcpProxy
from tests.support.server import ServerProcess, healthy

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
READINESS = ("", "glarimy.ums.find.v1.FindService")
NAMES = ("KrishnaMohan", "NobodyByThisName")


@pytest.fixture
def proxy(users_db: DatabaseUrl) -> Iterator[TcpProxy]:
    proxy = TcpProxy(users_db.host, users_db.port)
    yield proxy
    proxy.close()


def started_server(url: DatabaseUrl) -> ServerProcess:
    """1 s cap on DB work, a check every second, as many workers as the tests' callers: the
    thread count under load is then steady, and a stuck worker would starve the callers."""
    server = ServerProcess(
        {
            "FINDSVC_DB_URL": url_string(url),
            "FINDSVC_HEALTH_INTERVAL_S": "1",
            "FINDSVC_DB_TIMEOUT_S": "1",
            "FINDSVC_WORKERS": "4",
        }
    )
    server.wait_health()
    return server


@pytest.fixture
def proxied_server(users_db: DatabaseUrl, proxy: TcpProxy) -> Iterator[ServerProcess]:
    """A server whose MySQL sits behind the proxy."""
    server = started_server(replace(users_db, host="127.0.0.1", port=proxy.port))
    yield server
    server.close()


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
    mariadb = PrivateMariaDB()
    mariadb.start()
    try:
        url = replace(parse_database_url(mariadb.url), database="glarimy")
        create_database(url)
        insert_user(url, "KrishnaMohan", 9731423166, datetime(2018, 3, 14, tzinfo=UTC))
        yield StoppableDatabase(url, mariadb.stop, mariadb.start)
    finally:
        mariadb.destroy()


def readiness_is(server: ServerProcess, status: int) -> bool:
    with server.channel() as channel:
        return all(health_status(channel, name) == status for name in READINESS)


class TestDatabaseOutage:
    def test_health_codes_and_threads_follow_a_database_stop_and_restart(
        self, stoppable_db: StoppableDatabase
    ) -> None:
        server = started_server(stoppable_db.url)
        pid = server.process.pid
        try:
            with server.channel() as channel:
                watch = HealthWatch(channel, "")
                with Load(server.target, NAMES) as load:
                    time.sleep(1.5)
                    threads_before = thread_count(pid)

                    stoppable_db.stop()
                    down_at = time.monotonic()
                    assert wait_for(lambda: readiness_is(server, NOT_SERVING), 10) < 10
                    assert health_status(channel, "liveness") == SERVING
                    time.sleep(2)
                    assert health_status(channel, "liveness") == SERVING

                    restart_at = time.monotonic()  # the DB may answer before start() returns
                    stoppable_db.start()
                    assert wait_for(lambda: readiness_is(server, SERVING), 10) < 10
                    wait_for(lambda: find(channel, "KrishnaMohan") == grpc.StatusCode.OK, 10)
                    healed_at = time.monotonic()
                    time.sleep(1)
                watch.close()
                threads_after = thread_count(pid)
        finally:
            server.close()

        during = [o for o in load.outcomes if down_at + 1 <= o.started < restart_at - o.seconds]
        assert during, "no calls were made during the outage"
        assert {o.code for o in during} == {grpc.StatusCode.UNAVAILABLE}
        assert max(o.seconds for o in during) < 1.0
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
            Load(proxied_server.target, NAMES, callers=4, timeout_s=30) as load,
        ):
            time.sleep(1)
            threads_before = thread_count(pid)
            proxy.hang()
            hung_at = time.monotonic()
            assert find(channel, "KrishnaMohan", timeout_s=0.5) == (
                grpc.StatusCode.DEADLINE_EXCEEDED
            )
            assert time.monotonic() - hung_at < 1.0
            wait_for(lambda: readiness_is(proxied_server, NOT_SERVING), 10)
            time.sleep(2)
            proxy.up()
            up_at = time.monotonic()
            wait_for(lambda: readiness_is(proxied_server, SERVING), 10)
            assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK
            time.sleep(0.5)
            threads_after = thread_count(pid)

        # No caller waited past our 1 s cap (plus the wait for a pooled connection that the
        # same cap bounds), however long its own deadline.
        hung = [o for o in load.outcomes if hung_at <= o.started < up_at]
        assert max(o.seconds for o in hung) < 2.5
        assert {o.code for o in hung} <= {
            grpc.StatusCode.DEADLINE_EXCEEDED,
            grpc.StatusCode.UNAVAILABLE,
        }
        # Once the breaker is open, answers come at once.
        last = hung[-20:]
        assert {o.code for o in last} == {grpc.StatusCode.UNAVAILABLE}
        assert max(o.seconds for o in last) < 0.5
        assert threads_after <= threads_before + THREAD_JITTER


def server_for_held_calls(users_db: DatabaseUrl, **settings: str) -> ServerProcess:
    """A healthy server whose calls may wait on a lock: a DB cap past the test, and no
    readiness check of its own to wait on the lock too."""
    return healthy(
        ServerProcess(
            {
                "FINDSVC_DB_URL": url_string(users_db),
                "FINDSVC_HEALTH_INTERVAL_S": "60",
                "FINDSVC_DB_TIMEOUT_S": "20",
                **settings,
            }
        )
    )


@contextmanager
def calls_held_by_a_table_lock(
    server: ServerProcess, url: DatabaseUrl, count: int
) -> Iterator[CallsInFlight]:
    """`count` FindUser calls, all waiting on `LOCK TABLES ums_users WRITE` until the block ends."""
    with admin_connection(url, url.database) as conn, conn.cursor() as cursor:
        cursor.execute("LOCK TABLES ums_users WRITE")
        in_flight = CallsInFlight(server.target)
        in_flight.start(count)
        wait_for(lambda: finds_waiting_on_the_lock(url) == count, 10)
        yield in_flight
    # Closing the connection ended the lock.


def finds_waiting_on_the_lock(url: DatabaseUrl) -> int:
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.processlist"
            " WHERE db = %s AND info LIKE 'SELECT name, phone, since%%'",
            (url.database,),
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0


class CallsInFlight:
    """FindUser calls started in threads, each keeping its status code."""

    def __init__(self, target: str) -> None:
        self._channel = grpc.insecure_channel(target)
        self.codes: list[grpc.StatusCode] = []
        self._threads: list[threading.Thread] = []

    def start(self, count: int, name: str = "KrishnaMohan") -> None:
        for _ in range(count):
            thread = threading.Thread(
                target=lambda: self.codes.append(find(self._channel, name, timeout_s=30))
            )
            thread.start()
            self._threads.append(thread)

    def join(self) -> list[grpc.StatusCode]:
        for thread in self._threads:
            thread.join(timeout=30)
        self._channel.close()
        return self.codes


class TestLoadShedding:
    def test_calls_past_the_concurrency_bound_get_resource_exhausted_at_once(
        self, users_db: DatabaseUrl
    ) -> None:
        server = server_for_held_calls(users_db, FINDSVC_MAX_CONCURRENCY="2")
        try:
            with (
                calls_held_by_a_table_lock(server, users_db, 2) as in_flight,
                server.channel() as channel,
            ):
                started = time.monotonic()
                assert find(channel, "KrishnaMohan") == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert time.monotonic() - started < 1.0
            assert in_flight.join() == [grpc.StatusCode.OK] * 2
        finally:
            server.close()

    def test_shed_calls_are_counted_as_resource_exhausted_but_not_timed_or_logged(
        self, users_db: DatabaseUrl
    ) -> None:
        server = server_for_held_calls(
            users_db, FINDSVC_MAX_CONCURRENCY="1", FINDSVC_ACCESS_LOG="all"
        )
        try:
            with (
                calls_held_by_a_table_lock(server, users_db, 1) as in_flight,
                server.channel() as channel,
            ):
                for _ in range(3):
                    assert find(channel, "KrishnaMohan") == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert in_flight.join() == [grpc.StatusCode.OK]
            samples = scrape(metrics_port(server))
            labels = {
                "grpc_type": "unary",
                "grpc_service": "glarimy.ums.find.v1.FindService",
                "grpc_method": "FindUser",
            }
            handled = value(
                samples, "grpc_server_handled_total", grpc_code="RESOURCE_EXHAUSTED", **labels
            )
            assert handled == 3
            # Not timed (a refusal's zero latency would flatter the latency SLO), and not
            # logged: a flood of refusals must not become a flood of log lines.
            assert value(samples, "grpc_server_handling_seconds_count", **labels) == 1
            assert "RESOURCE_EXHAUSTED" not in server.logs
        finally:
            server.close()


class TestProbesWhileEveryWorkerWaits:
    def test_health_is_answered_while_every_worker_waits_on_a_locked_table(
        self, users_db: DatabaseUrl
    ) -> None:
        server = server_for_held_calls(users_db, FINDSVC_WORKERS="2")
        try:
            with (
                calls_held_by_a_table_lock(server, users_db, 2) as in_flight,
                server.channel() as channel,
            ):
                queued = CallsInFlight(server.target)
                queued.start(1)  # waits for a worker, as would a probe without its own threads
                assert health_status(channel, "liveness") == SERVING
                assert health_status(channel, "") == SERVING
            assert in_flight.join() == [grpc.StatusCode.OK] * 2
            assert queued.join() == [grpc.StatusCode.OK]
        finally:
            server.close()


class TestMessageSize:
    def test_a_megabyte_request_is_refused(self, server: ServerProcess) -> None:
        with server.channel() as channel:
            assert find(channel, "x" * 1_000_000) == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK


class TestRollingUpdate:
    def test_sigterm_drains_then_finishes_every_accepted_call_and_exits_0(
        self, users_db: DatabaseUrl
    ) -> None:
        server = ServerProcess(
            {
                "FINDSVC_DB_URL": url_string(users_db),
                "FINDSVC_DRAIN_S": "3",
                "FINDSVC_GRACE_S": "20",
                "FINDSVC_DB_TIMEOUT_S": "20",
                "FINDSVC_HEALTH_INTERVAL_S": "60",
                # A thread and a query for each of the 6 calls: with fewer, the calls past
                # them wait for a thread, or coalesce into one batch, not on the lock.
                "FINDSVC_WORKERS": "8",
                "FINDSVC_DB_POOL_SIZE": "8",
            }
        )
        try:
            server.wait_health()
            while_draining = CallsInFlight(server.target)  # a client that connects only now
            with calls_held_by_a_table_lock(server, users_db, 4) as in_flight:
                server.process.send_signal(signal.SIGTERM)
                signalled_at = time.monotonic()
                assert wait_for(lambda: readiness_is(server, NOT_SERVING), 1) < 1
                while_draining.start(2)  # endpoints still point here while draining
                wait_for(lambda: finds_waiting_on_the_lock(users_db) == 6, 2.5)
                time.sleep(signalled_at + 4 - time.monotonic())  # past the drain
                with grpc.insecure_channel(server.target) as late:
                    assert find(late, "KrishnaMohan", timeout_s=2) == grpc.StatusCode.UNAVAILABLE
                assert server.process.poll() is None  # the accepted calls are still running
            assert in_flight.join() == [grpc.StatusCode.OK] * 4
            assert while_draining.join() == [grpc.StatusCode.OK] * 2
            assert server.process.wait(timeout=10) == 0
        finally:
            server.close()

    def test_a_second_signal_ends_the_process_at_once(self, users_db: DatabaseUrl) -> None:
        server = ServerProcess({"FINDSVC_DB_URL": url_string(users_db), "FINDSVC_DRAIN_S": "30"})
        try:
            server.wait_health()
            server.process.send_signal(signal.SIGTERM)
            wait_for(lambda: readiness_is(server, NOT_SERVING), 2)
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(timeout=5) != 0
            assert time.monotonic() - started < 2
        finally:
            server.close()

    def test_calls_still_running_after_the_grace_are_cut_and_the_exit_is_still_0(
        self, users_db: DatabaseUrl
    ) -> None:
        server = ServerProcess(
            {
                "FINDSVC_DB_URL": url_string(users_db),
                "FINDSVC_DRAIN_S": "0",
                "FINDSVC_GRACE_S": "1",
                "FINDSVC_DB_TIMEOUT_S": "30",
                "FINDSVC_HEALTH_INTERVAL_S": "60",
            }
        )
        try:
            server.wait_health()
            with calls_held_by_a_table_lock(server, users_db, 2) as in_flight:
                started = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
                assert server.process.wait(timeout=10) == 0
                assert time.monotonic() - started < 4
            assert grpc.StatusCode.OK not in in_flight.join()
        finally:
            server.close()


class TestKilledConnections:
    def test_the_call_after_the_database_killed_every_connection_succeeds(
        self, server: ServerProcess, users_db: DatabaseUrl
    ) -> None:
        # The rolling-update tests lock the shared table: let this server's readiness (and
        # its breaker) see the database answer again first.
        server.wait_health()
        with server.channel() as channel:
            for _ in range(4):
                assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK
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
            assert [find(channel, "KrishnaMohan") for _ in range(4)] == [grpc.StatusCode.OK] * 4


class TestKeepalive:
    def test_a_client_pinging_every_second_is_not_sent_away(self, server: ServerProcess) -> None:
        server.wait_health()  # see TestKilledConnections
        options = [
            ("grpc.keepalive_time_ms", 1000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ]
        states: list[grpc.ChannelConnectivity] = []
        with grpc.insecure_channel(server.target, options=options) as channel:
            channel.subscribe(states.append, try_to_connect=True)
            assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK
            time.sleep(4)  # idle, pinging; a strict server says GOAWAY too_many_pings by now
            assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK
        ready_at = states.index(grpc.ChannelConnectivity.READY)
        assert states[ready_at:] == [grpc.ChannelConnectivity.READY]

    def test_connections_past_their_maximum_age_are_closed_and_calls_go_on(
        self, users_db: DatabaseUrl
    ) -> None:
        server = ServerProcess(
            {
                "FINDSVC_DB_URL": url_string(users_db),
                "FINDSVC_MAX_CONNECTION_AGE_S": "1",
                "FINDSVC_MAX_CONNECTION_AGE_GRACE_S": "1",
            }
        )
        states: list[grpc.ChannelConnectivity] = []
        try:
            server.wait_health()
            with server.channel() as channel:
                channel.subscribe(states.append, try_to_connect=True)
                codes = []
                for _ in range(10):  # about 3 s of calls on one channel
                    codes.append(find(channel, "KrishnaMohan"))
                    time.sleep(0.3)
            assert codes == [grpc.StatusCode.OK] * 10
            # A new connection was made: where a load balancer would pick a pod again.
            assert states.count(grpc.ChannelConnectivity.READY) >= 2
        finally:
            server.close()
