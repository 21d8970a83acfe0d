"""JWT keys from the issuer's URL, as findsvc reads a cluster's /openid/v1/jwks: fetched in
the background with its own service-account token, never on a call's path."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from devkit.mariadb import free_port
from devkit.server import ServerProcess, StartServer
from tests.support.calls import KRISHNA, SERVING, find, readiness_is
from tests.support.certs import Pki
from tests.support.jwts import AUDIENCE, ISSUER, Issuer, JwksServer
from tests.support.load import wait_for


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def start_with_jwks_at(
    users_db_url: str, pki: Pki, tmp_path: Path, start_server: StartServer
) -> Callable[[str, str], ServerProcess]:
    """`start_with_jwks_at(url, token)`: findsvc checking JWTs with the keys at `url`, which it
    fetches with `token` read from a file, as a pod reads its service-account token."""

    def start(url: str, token: str) -> ServerProcess:
        token_file = tmp_path / "token"
        token_file.write_text(token + "\n")
        env = {
            "FINDSVC_AUTH_JWKS_URL": url,
            "FINDSVC_AUTH_JWKS_CA": str(pki.ca),
            "FINDSVC_AUTH_JWKS_TOKEN_FILE": str(token_file),
            "FINDSVC_AUTH_JWT_ISSUER": ISSUER,
            "FINDSVC_AUTH_JWT_AUDIENCE": AUDIENCE,
        }
        return start_server({"FINDSVC_DB_URL": users_db_url, **env})

    return start


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class TestKeysFromAUrl:
    def test_a_jwt_passes_once_the_keys_are_fetched_with_the_pods_token(
        self, issuer: Issuer, pki: Pki, start_with_jwks_at: Callable[[str, str], ServerProcess]
    ) -> None:
        own_token = secrets.token_urlsafe(32)
        with JwksServer(issuer, pki.server_cert, pki.server_key, own_token) as jwks:
            server = start_with_jwks_at(jwks.url, own_token)
            with server.channel() as channel:
                wait_for(
                    lambda: (
                        find(channel, KRISHNA, metadata=bearer(issuer.token()))
                        == grpc.StatusCode.OK
                    ),
                    15,
                )
            assert jwks.shown[-1] == f"Bearer {own_token}"
        assert own_token not in server.logs

    def test_an_issuer_that_is_down_costs_no_start_and_no_call_its_time(
        self, issuer: Issuer, start_with_jwks_at: Callable[[str, str], ServerProcess]
    ) -> None:
        nobody = f"https://127.0.0.1:{free_port()}/openid/v1/jwks"
        server = start_with_jwks_at(nobody, "t")
        assert readiness_is(server, SERVING)
        with server.channel() as channel:
            stub = channel.unary_unary("/glarimy.ums.find.v1.FindService/FindUser")
            with pytest.raises(grpc.RpcError) as refused:
                stub(b"\n\x0cKrishnaMohan", timeout=5, metadata=bearer(issuer.token()))
        assert (refused.value.code(), refused.value.details()) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "the token is signed with an unknown key",
        )
        wait_for(lambda: "cannot fetch the JWT keys" in server.logs, 10)
