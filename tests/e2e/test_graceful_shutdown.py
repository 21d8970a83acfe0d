"""SIGTERM during a rolling update: drain, finish the accepted calls, exit 0; a second signal
or the end of the grace cuts it short."""

from __future__ import annotations

import signal
import time

import grpc

from devkit.server import StartServer
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, NOT_SERVING, find, readiness_is
from tests.support.db import url_string
from tests.support.held_calls import (
    CallsInFlight,
    calls_held_by_a_table_lock,
    finds_waiting_on_the_lock,
    held_calls_env,
)
from tests.support.load import wait_for

DRAIN_S = 10  # readiness flips and the late callers arrive inside it, on a busy machine too


class TestRollingUpdate:
    def test_sigterm_drains_then_finishes_every_accepted_call_and_exits_0(
        self, users_db: DatabaseUrl, start_server: StartServer
    ) -> None:
        server = start_server(
            held_calls_env(
                users_db,
                FINDSVC_DRAIN_S=str(DRAIN_S),
                FINDSVC_GRACE_S="20",
                # A thread and a query for each of the 6 calls: with fewer, the calls past
                # them wait for a thread, or coalesce into one batch, not on the lock.
                FINDSVC_WORKERS="8",
                FINDSVC_DB_POOL_SIZE="8",
            )
        )
        while_draining = CallsInFlight(server.target)  # a client that connects only now
        with calls_held_by_a_table_lock(server, users_db, 4) as in_flight:
            server.process.send_signal(signal.SIGTERM)
            signalled_at = time.monotonic()
            wait_for(lambda: readiness_is(server, NOT_SERVING), DRAIN_S)
            while_draining.start(2)  # endpoints still point here while draining
            wait_for(lambda: finds_waiting_on_the_lock(users_db) == 6, DRAIN_S)
            assert "refusing new calls" not in server.logs  # they came within the drain
            wait_for(lambda: "refusing new calls" in server.logs, DRAIN_S * 4)
            assert time.monotonic() - signalled_at >= DRAIN_S
            with grpc.insecure_channel(server.target) as late:
                assert find(late, KRISHNA, timeout_s=2) == grpc.StatusCode.UNAVAILABLE
            assert server.process.poll() is None  # the accepted calls are still running
        assert in_flight.join() == [grpc.StatusCode.OK] * 4
        assert while_draining.join() == [grpc.StatusCode.OK] * 2
        assert server.process.wait(timeout=10) == 0

    def test_a_second_signal_ends_the_process_at_once(
        self, users_db: DatabaseUrl, start_server: StartServer
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": url_string(users_db), "FINDSVC_DRAIN_S": "30"})
        server.process.send_signal(signal.SIGTERM)
        wait_for(lambda: readiness_is(server, NOT_SERVING), 2)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 1
        assert time.monotonic() - started < 20  # not the 30 s drain
        assert "second signal: exiting now" in server.logs

    def test_calls_still_running_after_the_grace_are_cut_and_the_exit_is_still_0(
        self, users_db: DatabaseUrl, start_server: StartServer
    ) -> None:
        server = start_server(
            held_calls_env(
                users_db, FINDSVC_DRAIN_S="0", FINDSVC_GRACE_S="1", FINDSVC_DB_TIMEOUT_S="30"
            )
        )
        with calls_held_by_a_table_lock(server, users_db, 2) as in_flight:
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(timeout=25) == 0
            assert time.monotonic() - started < 20  # the 1 s grace, not the calls' 30 s cap
        assert grpc.StatusCode.OK not in in_flight.join()
        assert "2 calls still running at the end of the grace are cut" in server.logs
