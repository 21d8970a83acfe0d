"""Reads from a real MariaDB replica, with the promise kept: a user committed on the primary
is found by the very next call, and the primary carries only what a replica cannot know."""

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

from devkit.envoy import EnvoyProcess
from devkit.mariadb import free_port
from devkit.server import ServerProcess, StartServer
from findsvc.entrypoints.health import SERVING
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.calls import (
    KRISHNA,
    KRISHNA_PHONE,
    KRISHNA_SINCE,
    find,
    findsvc,
    readiness_is,
)
from tests.support.db import grant_read_only_account, insert_user, url_string
from tests.support.metrics import metrics_port, scrape, value
from tests.support.replication import (
    Replicated,
    com_select,
    position,
    replicated_users_db,
    replication,
)

HEALTH_INTERVAL_S = 0.5  # devkit's server default
# Lag is measured once an interval, so a replica a moment behind can look an interval late;
# on a loaded machine checks run late too.
MAX_LAG_S = 3.0
# Room for a loaded two-core machine on top of a bound the service promises.
SLACK_S = 10.0
LOOKUPS = 500


def new_name() -> str:
    return f"replica{uuid.uuid4().hex[:12]}"


def add_user(replicated: Replicated, name: str) -> None:
    """As the AddService does: committed on the primary."""
    insert_user(replicated.primary_url, name, KRISHNA_PHONE, KRISHNA_SINCE)


def replica_healthy(server: ServerProcess, replicated: Replicated) -> float:
    samples = scrape(metrics_port(server))
    return value(samples, "findsvc_db_replica_healthy", replica=replicated.replica_label)


def lookups(server: ServerProcess, target: str) -> float:
    return value(scrape(metrics_port(server)), "findsvc_db_lookups_total", target=target)


def wait_for_health(
    server: ServerProcess, replicated: Replicated, healthy: bool, timeout_s: float = 30
) -> float:
    """Seconds until the server's checks find the replica (un)healthy."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if replica_healthy(server, replicated) == (1.0 if healthy else 0.0):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"replica never turned healthy={healthy}:\n{server.logs}")


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    with replicated_users_db() as pair:
        yield pair


@pytest.fixture
def server(start_server: StartServer, replicated: Replicated) -> ServerProcess:
    process = start_server(replicated.server_env(MAX_LAG_S))
    wait_for_health(process, replicated, healthy=True)
    return process


@pytest.fixture
def stalled(replicated: Replicated) -> Iterator[None]:
    """The replica's SQL thread stopped: it receives the primary's changes, applies none."""
    replication(replicated.replica_url, "STOP SLAVE SQL_THREAD")
    try:
        yield
    finally:
        replication(replicated.replica_url, "START SLAVE SQL_THREAD")


class TestReadsGoToTheReplica:
    def test_found_users_are_read_from_the_replica_not_the_primary(
        self, server: ServerProcess, replicated: Replicated
    ) -> None:
        on_primary = com_select(replicated.primary_url)
        on_replica = com_select(replicated.replica_url)
        started = time.monotonic()
        with server.channel() as channel:
            codes = [find(channel, KRISHNA) for _ in range(LOOKUPS)]
        elapsed_s = time.monotonic() - started
        assert set(codes) == {grpc.StatusCode.OK}
        assert com_select(replicated.replica_url) - on_replica >= LOOKUPS
        # Only readiness and the lag checks reach the primary: two queries an interval.
        checks = 10 + 2 * elapsed_s / HEALTH_INTERVAL_S
        assert com_select(replicated.primary_url) - on_primary <= checks + LOOKUPS * 0.01

    def test_a_name_no_one_has_is_not_found_after_the_primary_confirms_it(
        self, server: ServerProcess
    ) -> None:
        before = lookups(server, "primary")
        with server.channel() as channel:
            assert find(channel, new_name()) == grpc.StatusCode.NOT_FOUND
        assert lookups(server, "primary") == before + 1


class TestTheNextCallFindsANewUser:
    def test_a_user_the_stalled_replica_lacks_is_found_on_the_primary(
        self, server: ServerProcess, replicated: Replicated, stalled: None
    ) -> None:
        name = new_name()
        add_user(replicated, name)
        on_replica = lookups(server, replicated.replica_label)
        on_primary = lookups(server, "primary")
        with server.channel() as channel:
            assert find(channel, name) == grpc.StatusCode.OK
        # Asked of the replica first, which lacked it, then of the primary.
        assert lookups(server, replicated.replica_label) == on_replica + 1
        assert lookups(server, "primary") == on_primary + 1

    def test_a_batch_asks_the_primary_only_for_the_names_the_stalled_replica_lacks(
        self, server: ServerProcess, replicated: Replicated, stalled: None
    ) -> None:
        added, nobody = [new_name(), new_name()], new_name()
        for name in added:
            add_user(replicated, name)
        on_replica = lookups(server, replicated.replica_label)
        on_primary = lookups(server, "primary")
        with server.channel() as channel:
            stub = find_service_pb2_grpc.FindServiceStub(channel)
            request = find_service_pb2.BatchFindUsersRequest(names=[KRISHNA, *added, nobody])
            reply = stub.BatchFindUsers(request, timeout=5)
        assert sorted(user.name for user in reply.users) == sorted([KRISHNA, *added])
        assert list(reply.not_found_names) == [nobody]
        assert lookups(server, replicated.replica_label) == on_replica + 4
        assert lookups(server, "primary") == on_primary + 3

    def test_read_after_gtid_answers_with_the_new_row_at_once(
        self, server: ServerProcess, replicated: Replicated
    ) -> None:
        name = new_name()
        add_user(replicated, name)
        metadata = (("x-read-after-gtid", position(replicated.primary_url)),)
        with server.channel() as channel:
            assert find(channel, name, metadata=metadata) == grpc.StatusCode.OK

    def test_read_after_gtid_passes_over_a_stalled_replica_for_the_primary(
        self, server: ServerProcess, replicated: Replicated, stalled: None
    ) -> None:
        name = new_name()
        add_user(replicated, name)
        metadata = (("x-read-after-gtid", position(replicated.primary_url)),)
        on_replica = lookups(server, replicated.replica_label)
        on_primary = lookups(server, "primary")
        with server.channel() as channel:
            assert find(channel, name, metadata=metadata) == grpc.StatusCode.OK
        assert lookups(server, replicated.replica_label) == on_replica
        assert lookups(server, "primary") == on_primary + 1

    @pytest.mark.parametrize("header", ["0-1", "0-1-2; DROP TABLE x", "1" * 5000, "uuid:1-2"])
    def test_a_malformed_read_after_gtid_is_an_invalid_argument(
        self, server: ServerProcess, header: str
    ) -> None:
        with server.channel() as channel:
            code = find(channel, KRISHNA, metadata=(("x-read-after-gtid", header),))
        assert code == grpc.StatusCode.INVALID_ARGUMENT


class TestRestGateway:
    def test_envoy_passes_x_read_after_gtid_to_findsvc(
        self, server: ServerProcess, replicated: Replicated
    ) -> None:
        name = new_name()
        add_user(replicated, name)
        with EnvoyProcess(server.port) as envoy:
            envoy.wait_ready()
            fresh = envoy.request(
                "GET",
                f"/user/{name}",
                headers={"x-read-after-gtid": position(replicated.primary_url)},
            )
            malformed = envoy.request(
                "GET", f"/user/{KRISHNA}", headers={"x-read-after-gtid": "not-a-position"}
            )
        assert fresh.status == 200
        assert malformed.status == 400  # findsvc saw the header and refused it


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
