"""Reads from a real MariaDB replica, with the promise kept: a user committed on the primary
is found by the very next call, and the primary carries only what a replica cannot know."""

from __future__ import annotations

import time

import grpc
import pytest

from devkit.envoy import EnvoyProcess
from devkit.server import ServerProcess
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.calls import (
    KRISHNA,
    find,
)
from tests.support.replication import (
    HEALTH_INTERVAL_S,
    LOOKUPS,
    Replicated,
    add_user,
    com_select,
    lookups,
    new_name,
    position,
)


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
