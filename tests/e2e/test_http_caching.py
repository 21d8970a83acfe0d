"""FindUser's answer carries an ETag that changes exactly when the record does, and the
Cache-Control the operator set; If-None-Match with the current ETag is a 304 with no body.
Through the real Envoy sidecar and a real findsvc; gRPC callers that ask get the same ETag."""

from __future__ import annotations

import uuid

import pytest

from devkit.envoy import EnvoyProcess
from devkit.server import ServerProcess, StartServer
from findsvc.config import DatabaseUrl
from findsvc.entrypoints.grpc_servicer import ETAG_HEADER
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.browsers import connect_get
from tests.support.calls import KRISHNA, KRISHNA_SINCE
from tests.support.db import admin_connection, insert_user
from tests.support.rest import ready_envoy

DEFAULT_CACHE_CONTROL = "private, max-age=0, must-revalidate"


def etag(envoy: EnvoyProcess, name: str) -> str:
    reply = envoy.request("GET", f"/user/{name}")
    assert reply.status == 200
    return reply.headers["etag"]


def set_phone(url: DatabaseUrl, name: str, phone: int) -> None:
    with admin_connection(url, url.database) as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE ums_users SET phone = %s WHERE name = %s", (phone, name))


class TestEtag:
    def test_an_answer_carries_a_strong_etag_and_the_default_cache_control(
        self, envoy: EnvoyProcess
    ) -> None:
        reply = envoy.request("GET", f"/user/{KRISHNA}")
        assert reply.headers["etag"].startswith('"')
        assert reply.headers["cache-control"] == DEFAULT_CACHE_CONTROL

    def test_is_the_same_while_the_record_is(self, envoy: EnvoyProcess) -> None:
        assert etag(envoy, KRISHNA) == etag(envoy, KRISHNA)

    def test_changes_when_the_record_does(self, envoy: EnvoyProcess, users_db: DatabaseUrl) -> None:
        name = f"Etag{uuid.uuid4().hex[:12]}"
        insert_user(users_db, name, 9000000001, KRISHNA_SINCE)
        before = etag(envoy, name)
        set_phone(users_db, name, 9000000002)
        after = etag(envoy, name)
        assert after != before
        set_phone(users_db, name, 9000000001)
        assert etag(envoy, name) == before

    def test_grpc_callers_that_ask_get_the_same_etag_as_metadata(
        self, envoy: EnvoyProcess, server: ServerProcess
    ) -> None:
        metadata = dict(find_user_metadata(server, ((ETAG_HEADER, "1"),)))
        assert metadata["etag"] == etag(envoy, KRISHNA)
        assert metadata["cache-control"] == DEFAULT_CACHE_CONTROL

    def test_grpc_callers_that_do_not_ask_are_sent_none(
        self, envoy: EnvoyProcess, server: ServerProcess
    ) -> None:
        """Sent in a batch of its own ahead of the answer, it costs a third of a cached
        lookup's CPU: only callers that revalidate pay for it."""
        keys = {key for key, _ in find_user_metadata(server, ())}
        assert not keys & {"etag", "cache-control"}


def find_user_metadata(
    server: ServerProcess, metadata: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """The initial metadata of a direct gRPC FindUser call that sends `metadata`."""
    with server.channel() as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        _, call = stub.FindUser.with_call(
            find_service_pb2.FindUserRequest(name=KRISHNA), metadata=metadata
        )
    return tuple(call.initial_metadata())


class TestIfNoneMatch:
    @pytest.mark.parametrize(
        "condition",
        ["{etag}", "W/{etag}", '"older", {etag}', "*"],
        ids=["exact", "weak", "in-a-list", "any"],
    )
    def test_the_current_etag_is_304_with_no_body(
        self, envoy: EnvoyProcess, condition: str
    ) -> None:
        current = etag(envoy, KRISHNA)
        reply = envoy.request(
            "GET", f"/user/{KRISHNA}", headers={"If-None-Match": condition.format(etag=current)}
        )
        assert (reply.status, reply.body) == (304, b"")
        assert reply.headers["etag"] == current

    def test_an_old_etag_gets_the_record(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", f"/user/{KRISHNA}", headers={"If-None-Match": '"older"'})
        assert reply.status == 200
        assert reply.json()["name"] == KRISHNA

    def test_a_connect_get_is_revalidated_too(self, envoy: EnvoyProcess) -> None:
        request = find_service_pb2.FindUserRequest(name=KRISHNA)
        first = connect_get(envoy, "FindUser", request)
        again = connect_get(envoy, "FindUser", request, {"If-None-Match": first.headers["etag"]})
        assert (first.status, again.status, again.body) == (200, 304, b"")

    def test_a_missing_user_is_still_404(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", "/user/NobodyByThisName", headers={"If-None-Match": "*"})
        assert reply.status == 404


def test_the_operator_sets_cache_control(start_server: StartServer, users_db_url: str) -> None:
    server = start_server({"FINDSVC_DB_URL": users_db_url, "FINDSVC_CACHE_CONTROL": "no-store"})
    with ready_envoy(server) as envoy:
        reply = envoy.request("GET", f"/user/{KRISHNA}")
        assert (reply.status, reply.headers["cache-control"]) == (200, "no-store")
