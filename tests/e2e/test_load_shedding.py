"""A full server: calls past the concurrency bound are refused at once, a burst within it is
answered in full, a closed loop below it through pauses of the whole server is never shed,
and health probes are answered while every worker waits."""

from __future__ import annotations

import os
import signal
import time

import grpc

from devkit.server import StartServer
from findsvc.config import DatabaseUrl
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.calls import KRISHNA, SERVING, find, health_status
from tests.support.held_calls import CallsInFlight, calls_held_by_a_table_lock, held_calls_env
from tests.support.load import Load, wait_for
from tests.support.metrics import FIND_USER_LABELS, metrics_port, scrape, value


class TestLoadShedding:
    def test_calls_past_the_concurrency_bound_get_resource_exhausted_at_once(
        self, users_db: DatabaseUrl, start_server: StartServer
    ) -> None:
        server = start_server(held_calls_env(users_db, FINDSVC_MAX_CONCURRENCY="2"))
        with (
            calls_held_by_a_table_lock(server, users_db, 2) as in_flight,
            server.channel() as channel,
        ):
            started = time.monotonic()
            assert find(channel, KRISHNA, timeout_s=30) == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert time.monotonic() - started < 10  # refused, not queued behind the lock
        assert in_flight.join() == [grpc.StatusCode.OK] * 2

    def test_shed_calls_are_counted_as_resource_exhausted_but_not_timed_or_logged(
        self, users_db: DatabaseUrl, start_server: StartServer
    ) -> None:
        server = start_server(
            held_calls_env(users_db, FINDSVC_MAX_CONCURRENCY="1", FINDSVC_ACCESS_LOG="all")
        )
        with (
            calls_held_by_a_table_lock(server, users_db, 1) as in_flight,
            server.channel() as channel,
        ):
            for _ in range(3):
                assert find(channel, KRISHNA) == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert in_flight.join() == [grpc.StatusCode.OK]
        samples = scrape(metrics_port(server))
        handled = value(
            samples, "grpc_server_handled_total", grpc_code="RESOURCE_EXHAUSTED", **FIND_USER_LABELS
        )
        assert handled == 3
        # Not timed (a refusal's zero latency would flatter the latency SLO), and not logged:
        # a flood of refusals must not become a flood of log lines.
        assert value(samples, "grpc_server_handling_seconds_count", **FIND_USER_LABELS) == 1
        assert "RESOURCE_EXHAUSTED" not in server.logs


class TestBursts:
    def test_a_burst_as_large_as_the_concurrency_bound_is_answered_in_full(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        # A burst reaches gRPC's C core faster than its one polling thread takes calls in: a
        # queue there shorter than the bound (say 8, which sheds an overload more cheaply)
        # refused more than a quarter of each such burst with CANCELLED, on an idle server.
        bound = 32
        server = start_server(
            {"FINDSVC_DB_URL": users_db_url, "FINDSVC_MAX_CONCURRENCY": str(bound)}
        )
        with server.channel() as channel:
            stub = find_service_pb2_grpc.FindServiceStub(channel)
            assert find(channel, KRISHNA) == grpc.StatusCode.OK  # connected: one burst follows
            request = find_service_pb2.FindUserRequest(name=KRISHNA)
            for _ in range(3):
                burst = [stub.FindUser.future(request, timeout=5) for _ in range(bound)]
                assert [call.code() for call in burst] == [grpc.StatusCode.OK] * bound


class TestClosedLoopBelowTheBound:
    def test_callers_fewer_than_the_bound_are_never_shed_even_when_the_server_pauses(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        # A machine busy with other work stops a process now and then: here, for 0.4 s, three
        # times, with 48 callers (the bound is 64) queued behind 4 workers. Every queued call
        # then waited past 100 ms; the queue drains by itself, and nobody should be refused.
        server = start_server({"FINDSVC_DB_URL": users_db_url})
        pid = server.process.pid
        with Load(server.target, [KRISHNA], callers=48) as load:
            for _ in range(3):
                answered = len(load.outcomes)
                wait_for(lambda answered=answered: len(load.outcomes) > answered + 500, 30)
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.4)
                os.kill(pid, signal.SIGCONT)
            wait_for(lambda: any(o.seconds > 0.4 for o in list(load.outcomes)), 30)
            answered = len(load.outcomes)
            wait_for(lambda: len(load.outcomes) > answered + 500, 30)
        assert set(load.codes()) == {grpc.StatusCode.OK}, load.codes()


class TestProbesWhileEveryWorkerWaits:
    def test_health_is_answered_while_every_worker_waits_on_a_locked_table(
        self, users_db: DatabaseUrl, start_server: StartServer
    ) -> None:
        server = start_server(held_calls_env(users_db, FINDSVC_WORKERS="2"))
        queued = CallsInFlight(server.target)
        with calls_held_by_a_table_lock(server, users_db, 2) as in_flight:
            queued.start(1)  # waits for a worker, as would a probe without its own threads
            with server.channel() as channel:
                assert health_status(channel, "liveness") == SERVING
                assert health_status(channel, "") == SERVING
        assert in_flight.join() == [grpc.StatusCode.OK] * 2
        assert queued.join() == [grpc.StatusCode.OK]
