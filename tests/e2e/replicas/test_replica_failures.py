"""A real MariaDB replica that stalls, cannot be reached, is killed or serves through a
read-only account: the replica's health, the start, least privilege and failures."""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from devkit.mariadb import free_port
from devkit.server import ServerProcess, StartServer
from findsvc.entrypoints.health import SERVING
from tests.support.calls import (
    KRISHNA,
    find,
    findsvc,
    readiness_is,
)
from tests.support.db import grant_read_only_account, url_string
from tests.support.replication import (
    HEALTH_INTERVAL_S,
    MAX_LAG_S,
    SLACK_S,
    Replicated,
    add_user,
    lookups,
    new_name,
    position,
    replicated_users_db,
    replication,
    wait_for_health,
)


class TestReplicaHealth:
    def test_a_stalled_replica_stops_answering_within_its_lag_limit_and_gets_reads_back(
        self, server: ServerProcess, replicated: Replicated
    ) -> None:
        replication(replicated.replica_url, "STOP SLAVE SQL_THREAD")
        try:
            add_user(replicated, new_name())
            out_after_s = wait_for_health(server, replicated, healthy=False)
            assert out_after_s < MAX_LAG_S + HEALTH_INTERVAL_S + SLACK_S
            on_replica = lookups(server, replicated.replica_label)
            with server.channel() as channel:
                assert [find(channel, KRISHNA) for _ in range(20)] == [grpc.StatusCode.OK] * 20
            assert lookups(server, replicated.replica_label) == on_replica
        finally:
            replication(replicated.replica_url, "START SLAVE SQL_THREAD")
        wait_for_health(server, replicated, healthy=True)
        with server.channel() as channel:
            assert find(channel, KRISHNA) == grpc.StatusCode.OK
        assert lookups(server, replicated.replica_label) == on_replica + 1


class TestStart:
    def test_a_malformed_replica_list_stops_the_start_with_one_line(self) -> None:
        env = {**os.environ, "FINDSVC_DB_URL": "mysql://findsvc@db/glarimy"}
        env["FINDSVC_DB_REPLICA_URLS"] = "mysql://findsvc@r1/glarimy,,"
        result = findsvc("serve", env=env)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            "findsvc: FINDSVC_DB_REPLICA_URLS: expected comma-separated "
            "mysql://user[:password]@host[:port]/db"
        ]

    def test_a_replica_unreachable_at_start_is_a_warning_and_the_primary_serves(
        self, start_server: StartServer, replicated: Replicated
    ) -> None:
        nowhere = replace(replicated.replica_url, port=free_port())
        env = {**replicated.server_env(), "FINDSVC_DB_REPLICA_URLS": url_string(nowhere)}
        server = start_server(env)  # healthy: the primary answers
        with server.channel() as channel:
            assert find(channel, KRISHNA) == grpc.StatusCode.OK
        deadline = time.monotonic() + 30
        while "unreachable: out of service" not in server.logs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert f"replica 127.0.0.1:{nowhere.port} unreachable: out of service" in server.logs
        assert "database unavailable" not in server.logs  # the primary is not blamed


class TestLeastPrivilege:
    def test_the_granted_read_only_account_serves_from_the_replica_and_reads_after_a_gtid(
        self, start_server: StartServer, replicated: Replicated, tmp_path: Path
    ) -> None:
        user = f"findsvc_ro_{uuid.uuid4().hex[:8]}"
        password_file = tmp_path / "db-password"
        password_file.write_text(secrets.token_urlsafe(18) + "\n")
        grant_read_only_account(replicated.primary_url, user, password_file)  # replicates
        as_user = replace(replicated, primary_url=replace(replicated.primary_url, user=user),
                          replica_url=replace(replicated.replica_url, user=user))  # fmt: skip
        server = start_server(
            {**as_user.server_env(MAX_LAG_S), "FINDSVC_DB_PASSWORD_FILE": str(password_file)}
        )
        wait_for_health(server, replicated, healthy=True)  # GTID positions were read
        name = new_name()
        add_user(replicated, name)
        metadata = (("x-read-after-gtid", position(replicated.primary_url)),)
        on_replica = lookups(server, replicated.replica_label)
        with server.channel() as channel:
            assert find(channel, name, metadata=metadata) == grpc.StatusCode.OK
        assert lookups(server, replicated.replica_label) == on_replica + 1


class TestFailures:
    @pytest.fixture
    def own_pair(self) -> Iterator[Replicated]:
        with replicated_users_db() as pair:
            yield pair

    def test_a_killed_replica_costs_no_call_an_error(
        self, start_server: StartServer, own_pair: Replicated
    ) -> None:
        server = start_server(own_pair.server_env(MAX_LAG_S))
        wait_for_health(server, own_pair, healthy=True)
        codes: list[grpc.StatusCode] = []
        stop = threading.Event()

        def call_until_stopped() -> None:
            with server.channel() as channel:
                while not stop.is_set():
                    codes.append(find(channel, KRISHNA))

        callers = [threading.Thread(target=call_until_stopped) for _ in range(4)]
        for caller in callers:
            caller.start()
        try:
            on_primary = lookups(server, "primary")
            own_pair.replica.kill()
            deadline = time.monotonic() + 30
            while lookups(server, "primary") < on_primary + 50 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            for caller in callers:
                caller.join()
        assert lookups(server, "primary") >= on_primary + 50  # the calls went on, elsewhere
        assert set(codes) == {grpc.StatusCode.OK}

    def test_with_the_primary_down_found_users_are_answered_and_misses_are_unavailable(
        self, start_server: StartServer, own_pair: Replicated
    ) -> None:
        server = start_server(own_pair.server_env(MAX_LAG_S))
        wait_for_health(server, own_pair, healthy=True)
        own_pair.primary.kill()
        with server.channel() as channel:
            assert find(channel, new_name()) == grpc.StatusCode.UNAVAILABLE
            assert find(channel, KRISHNA) == grpc.StatusCode.OK
        deadline = time.monotonic() + 30  # until a readiness check has found the primary gone
        while "circuit open" not in server.logs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "circuit open" in server.logs
        assert readiness_is(server, SERVING)
