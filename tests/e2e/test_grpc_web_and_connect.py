"""A browser's gRPC-Web client and a Connect client reach FindUser and BatchFindUsers through
the real Envoy sidecar in front of a real findsvc, in their own wire formats, and get errors
as their protocol writes them."""

from __future__ import annotations

import pytest

from devkit.envoy import EnvoyProcess
from glarimy.ums.find.v1 import find_service_pb2
from tests.support.browsers import (
    SERVICE,
    connect_get,
    connect_json,
    connect_proto,
    grpc_web,
)
from tests.support.calls import KRISHNA, KRISHNA_JSON, KRISHNA_PHONE

NOBODY = "NobodyByThisName"
FIND_KRISHNA = find_service_pb2.FindUserRequest(name=KRISHNA)
FIND_NOBODY = find_service_pb2.FindUserRequest(name=NOBODY)


def record(payload: bytes) -> find_service_pb2.UserRecord:
    return find_service_pb2.UserRecord.FromString(payload)


class TestGrpcWeb:
    @pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
    def test_finds_a_user(self, envoy: EnvoyProcess, text: bool) -> None:
        answer = grpc_web(envoy, "FindUser", FIND_KRISHNA, text=text)
        assert (answer.status, answer.grpc_status) == (200, 0)
        (message,) = answer.messages
        assert (record(message).name, record(message).phone) == (KRISHNA, KRISHNA_PHONE)

    def test_a_missing_user_is_grpc_status_not_found(self, envoy: EnvoyProcess) -> None:
        answer = grpc_web(envoy, "FindUser", FIND_NOBODY)
        assert (answer.status, answer.grpc_status) == (200, 5)
        assert answer.trailers["grpc-message"] == "no user has that name"
        assert answer.messages == ()

    def test_batch_find_users(self, envoy: EnvoyProcess) -> None:
        request = find_service_pb2.BatchFindUsersRequest(names=[KRISHNA, NOBODY])
        answer = grpc_web(envoy, "BatchFindUsers", request, text=True)
        assert answer.grpc_status == 0
        (message,) = answer.messages
        response = find_service_pb2.BatchFindUsersResponse.FromString(message)
        assert ([u.name for u in response.users], list(response.not_found_names)) == (
            [KRISHNA],
            [NOBODY],
        )

    def test_reaches_only_find_service_not_health(self, envoy: EnvoyProcess) -> None:
        answer = envoy.request_raw(
            "POST",
            "/grpc.health.v1.Health/Check",
            b"\0\0\0\0\0",
            {"Content-Type": "application/grpc-web+proto"},
        )
        assert (answer.status, answer.headers["grpc-status"]) == (404, "12")  # UNIMPLEMENTED


class TestConnectJson:
    def test_finds_a_user_with_the_rest_json(self, envoy: EnvoyProcess) -> None:
        reply = connect_json(envoy, "FindUser", {"name": KRISHNA})
        assert (reply.status, reply.json()) == (200, KRISHNA_JSON)
        assert reply.headers["content-type"] == "application/json"

    def test_a_missing_user_is_404_with_connects_error_body(self, envoy: EnvoyProcess) -> None:
        reply = connect_json(envoy, "FindUser", {"name": NOBODY})
        assert (reply.status, reply.json()) == (
            404,
            {"code": "not_found", "message": "no user has that name"},
        )

    def test_a_bad_name_is_400_invalid_argument(self, envoy: EnvoyProcess) -> None:
        reply = connect_json(envoy, "FindUser", {"name": "short"})
        assert reply.status == 400
        assert reply.json() == {
            "code": "invalid_argument",
            "message": "invalid name: must be 8 to 32 characters long",
        }

    def test_batch_find_users(self, envoy: EnvoyProcess) -> None:
        reply = connect_json(envoy, "BatchFindUsers", {"names": [KRISHNA, NOBODY]})
        assert (reply.status, reply.json()) == (
            200,
            {"users": [KRISHNA_JSON], "not_found_names": [NOBODY]},
        )

    def test_the_connect_marker_cannot_lift_the_rest_rules(self, envoy: EnvoyProcess) -> None:
        # The header that picks the Connect JSON route is the gateway's own: sent by a caller
        # without Connect's, it is dropped, and the REST body rules refuse a "name" field.
        reply = envoy.request(
            "POST", f"{SERVICE}FindUser", {"name": KRISHNA}, {"x-findsvc-connect": "json"}
        )
        assert reply.status == 400
        assert reply.json()["code"] == 3


class TestConnectProtobuf:
    def test_post_finds_a_user(self, envoy: EnvoyProcess) -> None:
        reply = connect_proto(envoy, "FindUser", FIND_KRISHNA)
        assert (reply.status, reply.headers["content-type"]) == (200, "application/proto")
        assert record(reply.body).phone == KRISHNA_PHONE

    def test_get_finds_a_user(self, envoy: EnvoyProcess) -> None:
        reply = connect_get(envoy, "FindUser", FIND_KRISHNA)
        assert reply.status == 200
        assert record(reply.body).name == KRISHNA

    @pytest.mark.parametrize("call", [connect_proto, connect_get], ids=["post", "get"])
    def test_a_missing_user_is_404_not_found(self, envoy: EnvoyProcess, call: object) -> None:
        reply = call(envoy, "FindUser", FIND_NOBODY)  # type: ignore[operator]
        assert reply.status == 404
        assert reply.json() == {"code": "not_found", "message": "no user has that name"}

    def test_a_get_asking_for_json_is_refused_in_connects_words(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request(
            "GET", f'{SERVICE}FindUser?connect=v1&encoding=json&message={{"name":"{KRISHNA}"}}'
        )
        assert reply.status == 415
        assert reply.json()["code"] == "unimplemented"
