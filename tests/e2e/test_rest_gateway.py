"""REST callers of the seed's API, through a real Envoy (the repo's envoy/envoy.yaml) in front
of a real findsvc on MariaDB, over HTTP/1.1 as curl calls it."""

from __future__ import annotations

import secrets
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from devkit.envoy import EnvoyProcess
from devkit.mariadb import free_port
from devkit.server import ServerProcess, StartServer, serving
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, KRISHNA_JSON, KRISHNA_SINCE
from tests.support.db import insert_user, private_users_db, table_locked, url_string
from tests.support.held_calls import finds_waiting_on_the_lock
from tests.support.load import wait_for
from tests.support.rest import NO_SUCH_CALL, logged, ready_envoy

# The demo user as proto3 JSON: int64 as a string, the timestamp in RFC 3339.
# Names a URL must escape: a space, a slash, and non-ASCII (UTF-8 bytes, %-escaped).
ESCAPED_NAMES = ("Krishna Mohan", "Krishna/Mohan", "कृष्णमोहनजी")
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def user_path(name: str) -> str:
    return "/user/" + urllib.parse.quote(name, safe="")


@pytest.fixture(scope="module")
def envoy(users_db: DatabaseUrl, server: ServerProcess) -> Iterator[EnvoyProcess]:
    for name in ESCAPED_NAMES:
        insert_user(users_db, name, 9731400000, KRISHNA_SINCE)
    with ready_envoy(server) as envoy:
        yield envoy


class TestFindUser:
    def test_a_known_user_is_200_with_the_record_as_proto3_json(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", "/user/KrishnaMohan")
        assert reply.status == 200
        assert reply.headers["content-type"] == "application/json"
        assert reply.json() == KRISHNA_JSON  # int64 as a string, the timestamp in RFC 3339

    def test_a_missing_user_is_404_with_a_status_body(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", "/user/NobodyByThisName")
        assert reply.status == 404
        assert reply.headers["content-type"] == "application/json"
        assert reply.json() == {"code": 5, "message": "no user has that name", "details": []}

    def test_a_bad_name_is_400_with_the_field_violation_on_name(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", "/user/short")
        assert reply.status == 400
        body = reply.json()
        assert body["code"] == 3
        [detail] = body["details"]
        assert detail["@type"] == BAD_REQUEST
        assert [v["field"] for v in detail["field_violations"]] == ["name"]

    @pytest.mark.parametrize("name", ESCAPED_NAMES)
    def test_a_url_escaped_name_is_looked_up_unescaped(
        self, envoy: EnvoyProcess, name: str
    ) -> None:
        reply = envoy.request("GET", user_path(name))
        assert reply.status == 200, reply.body
        assert reply.json()["name"] == name

    def test_an_unknown_query_parameter_is_400_not_ignored(self, envoy: EnvoyProcess) -> None:
        assert envoy.request("GET", "/user/KrishnaMohan?nmae=x").status == 400

    def test_each_call_is_one_json_access_log_line_with_the_callers_method_and_path(
        self, envoy: EnvoyProcess
    ) -> None:
        envoy.request("GET", "/user/NobodyByThisName")
        entry = logged(envoy, "/user/NobodyByThisName")
        assert (entry["method"], entry["status"]) == ("GET", 404)


class TestRoutingOfOtherMethods:
    """Only the proto's bindings are routed: GET /user/{name} and POST /users:batchFind.
    Anything else is Envoy's own 404 with a fixed status body, and never reaches findsvc:
    HEAD is not GET to the transcoder, POST is not bound to /user/."""

    def test_post_on_user_is_404_from_envoy(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("POST", "/user/KrishnaMohan")
        assert (reply.status, reply.json()) == (404, NO_SUCH_CALL)

    def test_head_on_user_is_404_from_envoy(self, envoy: EnvoyProcess) -> None:
        assert envoy.request("HEAD", "/user/KrishnaMohan").status == 404

    def test_the_grpc_path_is_not_reachable_as_plain_http(self, envoy: EnvoyProcess) -> None:
        assert envoy.request("POST", "/grpc.health.v1.Health/Check", {}).status == 404


class TestBatchFindUsers:
    def test_found_users_and_names_not_found_in_request_order(self, envoy: EnvoyProcess) -> None:
        names = ["NobodyByThisName", KRISHNA]
        reply = envoy.request("POST", "/users:batchFind", {"names": names})
        assert reply.status == 200
        assert reply.json() == {"users": [KRISHNA_JSON], "not_found_names": ["NobodyByThisName"]}

    def test_a_bad_name_is_400_with_the_violation_on_its_index(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("POST", "/users:batchFind", {"names": [KRISHNA, "x"]})
        assert reply.status == 400
        [detail] = reply.json()["details"]
        assert [v["field"] for v in detail["field_violations"]] == ["names[1]"]


@pytest.fixture(scope="module")
def token() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def guarded_envoy(
    users_db_url: str, token: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EnvoyProcess]:
    """Envoy in front of a findsvc that wants a bearer token."""
    tokens = tmp_path_factory.mktemp("tokens") / "tokens"
    tokens.write_text(f"{token}\n")
    env = {"FINDSVC_DB_URL": users_db_url, "FINDSVC_AUTH_TOKENS_FILE": str(tokens)}
    with serving(env) as server, ready_envoy(server) as envoy:
        yield envoy


class TestTokenAuth:
    def test_no_token_is_401_with_a_status_body(self, guarded_envoy: EnvoyProcess) -> None:
        reply = guarded_envoy.request("GET", "/user/KrishnaMohan")
        assert reply.status == 401
        assert reply.json()["code"] == 16

    def test_the_bearer_header_reaches_findsvc(
        self, guarded_envoy: EnvoyProcess, token: str
    ) -> None:
        reply = guarded_envoy.request(
            "GET", "/user/KrishnaMohan", headers={"Authorization": f"Bearer {token}"}
        )
        assert (reply.status, reply.json()) == (200, KRISHNA_JSON)


@pytest.fixture
def envoy_before(
    users_db_url: str, start_server: StartServer
) -> Iterator[Callable[..., EnvoyProcess]]:
    """Envoy in front of a findsvc with the given settings."""
    with ExitStack() as started:

        def start(**settings: str) -> EnvoyProcess:
            server = start_server({"FINDSVC_DB_URL": users_db_url, **settings})
            return started.enter_context(ready_envoy(server))

        yield start


class TestSlowAndBusy:
    def test_a_database_slower_than_envoys_route_timeout_is_504_with_a_status_body(
        self, envoy_before: Callable[..., EnvoyProcess], users_db: DatabaseUrl
    ) -> None:
        # findsvc's own cap is past Envoy's 5 s route timeout: the deadline Envoy passes on
        # (grpc-timeout) makes findsvc answer first, with a status Envoy turns into JSON.
        envoy = envoy_before(FINDSVC_DB_TIMEOUT_S="10")
        with table_locked(users_db):
            reply = envoy.request("GET", "/user/KrishnaMohan")
        assert reply.status == 504
        assert reply.headers["content-type"] == "application/json"
        assert reply.json()["code"] == 4

    def test_a_call_past_the_concurrency_limit_is_429_with_a_status_body(
        self, envoy_before: Callable[..., EnvoyProcess], users_db: DatabaseUrl
    ) -> None:
        envoy = envoy_before(
            FINDSVC_MAX_CONCURRENCY="1", FINDSVC_WORKERS="1", FINDSVC_DB_TIMEOUT_S="30"
        )
        # The held call ends at Envoy's 4.5 s deadline: on a machine so loaded that it ended
        # before the second call arrived, hold one again (the 429 needs a call in flight).
        for _attempt in range(3):
            with table_locked(users_db):
                holder = threading.Thread(target=envoy.request, args=("GET", "/user/KrishnaMohan"))
                holder.start()  # the one call findsvc takes waits on the locked table
                wait_for(lambda: finds_waiting_on_the_lock(users_db) == 1, 20)
                reply = envoy.request("GET", "/user/KrishnaMohan")
            holder.join()
            if reply.status == 429:
                break
        assert reply.status == 429
        assert reply.json()["code"] == 8


class TestDatabaseDown:
    def test_a_stopped_database_is_503_with_a_status_body(
        self, tmp_path: Path, start_server: StartServer
    ) -> None:
        with private_users_db() as (mariadb, url):
            server = start_server({"FINDSVC_DB_URL": url_string(url)})
            with ready_envoy(server) as envoy:
                assert envoy.request("GET", "/user/KrishnaMohan").status == 200
                mariadb.stop()
                reply = envoy.request("GET", "/user/KrishnaMohan")
        assert reply.status == 503
        body = reply.json()
        assert body["code"] == 14
        assert "mysql" not in body["message"].lower()  # no driver text


class TestEnvoyThatCannotStart:
    def test_fails_with_one_line_saying_why(self) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            ports = (taken.getsockname()[1], free_port(), free_port())
            with (
                EnvoyProcess(free_port(), ports=ports) as envoy,
                pytest.raises(RuntimeError) as failure,
            ):
                envoy.wait_ready()
        reason = str(failure.value)
        assert reason.startswith("envoy exited") and "\n" not in reason
