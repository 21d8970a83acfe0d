"""A web page on another origin may call findsvc through the Envoy sidecar only from the
origins listed in CORS_ALLOWED_ORIGINS (devkit's Envoy lists any port on localhost and
127.0.0.1, as the dev overlay does): preflights answered, status and caching headers exposed,
and nothing for an origin not listed."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from devkit.envoy import EnvoyProcess, Reply
from devkit.server import ServerProcess
from tests.support.browsers import SERVICE
from tests.support.calls import KRISHNA
from tests.support.rest import ready_envoy

EXPOSED = {"grpc-status", "grpc-message", "etag", "cache-control"}


def preflight(envoy: EnvoyProcess, origin: str, method: str, path: str, headers: str = "") -> Reply:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return envoy.request("OPTIONS", path, headers=asked)


def krishna_from(envoy: EnvoyProcess, origin: str) -> Reply:
    """GET /user/KrishnaMohan as a page on `origin` asks for it."""
    return envoy.request("GET", f"/user/{KRISHNA}", headers={"Origin": origin})


@pytest.fixture
def envoy_allowing(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], AbstractContextManager[EnvoyProcess]]:
    """`with envoy_allowing(origins) as envoy`: a fresh Envoy with CORS_ALLOWED_ORIGINS set."""

    def start(origins: str) -> AbstractContextManager[EnvoyProcess]:
        monkeypatch.setenv("CORS_ALLOWED_ORIGINS", origins)
        return ready_envoy(server)

    return start


def listed(header: str) -> set[str]:
    return {name.strip().lower() for name in header.split(",")}


class TestListedOrigins:
    @pytest.mark.parametrize(
        "origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://localhost"]
    )
    def test_a_rest_answer_is_readable_from_a_local_page(
        self, envoy: EnvoyProcess, origin: str
    ) -> None:
        reply = krishna_from(envoy, origin)
        assert reply.status == 200
        assert reply.headers["access-control-allow-origin"] == origin
        assert listed(reply.headers["access-control-expose-headers"]) >= EXPOSED
        assert "origin" in listed(reply.headers["vary"])  # no cache hands it to another origin

    def test_an_error_is_readable_too(self, envoy: EnvoyProcess) -> None:
        origin = "http://localhost:8000"
        reply = envoy.request("GET", "/user/NobodyByThisName", headers={"Origin": origin})
        assert (reply.status, reply.headers["access-control-allow-origin"]) == (404, origin)

    @pytest.mark.parametrize(
        ("method", "path", "headers"),
        [
            ("GET", f"/user/{KRISHNA}", "if-none-match"),
            ("POST", "/users:batchFind", "content-type"),
            ("POST", f"{SERVICE}FindUser", "content-type, x-grpc-web, x-user-agent, grpc-timeout"),
            (
                "POST",
                f"{SERVICE}FindUser",
                "content-type, connect-protocol-version, connect-timeout-ms",
            ),
        ],
        ids=["rest-get", "rest-post", "grpc-web", "connect"],
    )
    def test_preflights_are_answered(
        self, envoy: EnvoyProcess, method: str, path: str, headers: str
    ) -> None:
        origin = "http://localhost:5173"
        reply = preflight(envoy, origin, method, path, headers)
        assert reply.status == 200
        assert reply.headers["access-control-allow-origin"] == origin
        assert method.lower() in listed(reply.headers["access-control-allow-methods"])
        assert listed(headers) <= listed(reply.headers["access-control-allow-headers"])


class TestOriginsNotListed:
    @pytest.mark.parametrize(
        "origin",
        [
            "https://evil.example",
            "https://localhost:5173",  # another scheme is another origin
            "http://localhost.evil.example",
            "http://localhost:5173.evil.example",
            "http://127.0.0.1.nip.io:80",
            "null",
        ],
    )
    def test_get_no_allow_origin(self, envoy: EnvoyProcess, origin: str) -> None:
        reply = krishna_from(envoy, origin)
        assert reply.status == 200  # the answer itself: only a browser withholds it
        assert "access-control-allow-origin" not in reply.headers

    def test_their_preflight_is_a_json_404(self, envoy: EnvoyProcess) -> None:
        reply = preflight(
            envoy, "https://evil.example", "POST", f"{SERVICE}FindUser", "content-type"
        )
        assert reply.status == 404
        assert "access-control-allow-origin" not in reply.headers
        assert reply.json()["code"] == 5


class TestNoOriginsListed:
    def test_an_envoy_without_the_list_allows_no_origin(
        self, envoy_allowing: Callable[[str], AbstractContextManager[EnvoyProcess]]
    ) -> None:
        # As the prod overlay ships: CORS_ALLOWED_ORIGINS empty until an operator lists some.
        with envoy_allowing("") as envoy:
            reply = krishna_from(envoy, "http://localhost:5173")
            assert reply.status == 200
            assert "access-control-allow-origin" not in reply.headers
            assert (
                preflight(envoy, "http://localhost:5173", "GET", f"/user/{KRISHNA}").status == 404
            )

    def test_an_operators_origin_is_allowed_exactly(
        self, envoy_allowing: Callable[[str], AbstractContextManager[EnvoyProcess]]
    ) -> None:
        with envoy_allowing("https://app.example.com") as envoy:
            ok = krishna_from(envoy, "https://app.example.com")
            other = krishna_from(envoy, "https://app.example.com:8443")
            assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
            assert "access-control-allow-origin" not in other.headers
