"""What a REST caller can put in a request, through a real Envoy in front of a real findsvc:
the name comes from the path only (no query string at all), a body holds known fields only,
and what Envoy answers or logs never carries the caller's input back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.envoy import EnvoyProcess
from devkit.server import ServerProcess
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, KRISHNA_SINCE
from tests.support.db import insert_user
from tests.support.rest import MALFORMED, NO_SUCH_CALL, logged, ready_envoy

GRACE = "GraceHopper"


@pytest.fixture(scope="module")
def envoy(users_db: DatabaseUrl, server: ServerProcess) -> Iterator[EnvoyProcess]:
    insert_user(users_db, GRACE, 9900112233, KRISHNA_SINCE)
    with ready_envoy(server) as envoy:
        yield envoy


class TestTheNameComesFromThePathOnly:
    def test_a_query_name_cannot_replace_the_paths(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", f"/user/{KRISHNA}?name={GRACE}")
        assert (reply.status, reply.json()) == (400, MALFORMED)

    def test_a_query_names_cannot_add_to_a_batch(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("POST", f"/users:batchFind?names={GRACE}", {"names": [KRISHNA]})
        assert (reply.status, reply.json()) == (400, MALFORMED)

    @pytest.mark.parametrize("query", ["?", "?x", "?access_token=secret"])
    def test_any_query_string_is_400(self, envoy: EnvoyProcess, query: str) -> None:
        reply = envoy.request("GET", f"/user/{KRISHNA}{query}")
        assert (reply.status, reply.json()) == (400, MALFORMED)

    def test_a_body_on_a_get_is_400_not_ignored(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", f"/user/{KRISHNA}", {"names": [GRACE]})
        assert (reply.status, reply.json()) == (400, MALFORMED)


class TestBatchBody:
    @pytest.mark.parametrize(
        "body",
        [{"nmaes": [KRISHNA]}, {"names": [KRISHNA], "limit": 1}, {"name": GRACE}],
        ids=["typo", "extra", "single-name"],
    )
    def test_a_field_the_request_does_not_have_is_400(
        self, envoy: EnvoyProcess, body: dict[str, object]
    ) -> None:
        reply = envoy.request("POST", "/users:batchFind", body)
        assert (reply.status, reply.json()) == (400, MALFORMED)

    def test_quotes_commas_and_braces_inside_names_are_names_not_fields(
        self, envoy: EnvoyProcess
    ) -> None:
        odd = 'Krishna",{"x":1,'
        reply = envoy.request("POST", "/users:batchFind", {"names": [odd, KRISHNA]})
        assert reply.status == 200
        assert reply.json()["not_found_names"] == [odd]

    @pytest.mark.parametrize(
        "raw",
        [b"<script>alert(1)</script>", b'{"names": [1, {"a": 2}]}', b'{"names": "KrishnaMohan"'],
        ids=["not-json", "wrong-types", "truncated"],
    )
    def test_a_body_the_transcoder_cannot_read_is_400_without_echo(
        self, envoy: EnvoyProcess, raw: bytes
    ) -> None:
        reply = envoy.request_raw("POST", "/users:batchFind", raw)
        assert (reply.status, reply.json()) == (400, MALFORMED)


class TestWhatEnvoyAnswersAndLogs:
    def test_a_path_no_call_has_is_404_with_a_status_body(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", "/users/<script>")
        assert reply.headers["content-type"] == "application/json"
        assert (reply.status, reply.json()) == (404, NO_SUCH_CALL)

    def test_replies_do_not_say_how_long_findsvc_took(self, envoy: EnvoyProcess) -> None:
        reply = envoy.request("GET", f"/user/{KRISHNA}")
        assert reply.status == 200
        assert not [h for h in reply.headers if h.startswith("x-envoy")]

    def test_the_access_log_has_the_path_without_the_query_string(
        self, envoy: EnvoyProcess
    ) -> None:
        envoy.request("GET", "/user/QueryStringLogged?access_token=TopSecretToken")
        entry = logged(envoy, "/user/QueryStringLogged")
        assert entry["status"] == 400
        assert "TopSecretToken" not in envoy.access_log_path.read_text()

    @pytest.mark.parametrize("path", [f"/user/{KRISHNA}", "/nowhere/ForgedHeaders"])
    def test_a_callers_original_method_and_path_headers_do_not_reach_the_log(
        self, envoy: EnvoyProcess, path: str
    ) -> None:
        forged = {"x-envoy-original-method": "DELETE", "x-envoy-original-path": "/forged"}
        envoy.request("GET", path, headers=forged)
        entry = logged(envoy, path)
        assert entry["method"] == "GET"
        assert "/forged" not in envoy.access_log_path.read_text()
