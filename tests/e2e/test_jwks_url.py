"""JWT keys from the issuer's URL, as findsvc reads a cluster's /openid/v1/jwks: fetched in
the background with its own service-account token, never on a call's path."""

from __future__ import annotations

import secrets
from pathlib import Path

import grpc
import pytest

from devkit.mariadb import free_port
from devkit.server import StartServer
from tests.support.calls import KRISHNA, SERVING, find, readiness_is
from tests.support.certs import Pki
from tests.support.jwts import AUDIENCE, ISSUER, Issuer, JwksServer
from tests.support.load import wait_for


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


def jwt_env(url: str, pki: Pki, token_file: Path) -> dict[str, str]:
    return {
        "FINDSVC_AUTH_JWKS_URL": url,
        "FINDSVC_AUTH_JWKS_CA": str(pki.ca),
        "FINDSVC_AUTH_JWKS_TOKEN_FILE": str(token_file),
        "FINDSVC_AUTH_JWT_ISSUER": ISSUER,
        "FINDSVC_AUTH_JWT_AUDIENCE": AUDIENCE,
    }


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class TestKeysFromAUrl:
    def test_a_jwt_passes_once_the_keys_are_fetched_with_the_pods_token(
        self,
        users_db_url: str,
        issuer: Issuer,
        pki: Pki,
        tmp_path: Path,
        start_server: StartServer,
    ) -> None:
        own_token = secrets.token_urlsafe(32)
        token_file = tmp_path / "token"
        token_file.write_text(own_token + "\n")
        with JwksServer(issuer, pki.server_cert, pki.server_key, own_token) as jwks:
            server = start_server(
                {"FINDSVC_DB_URL": users_db_url, **jwt_env(jwks.url, pki, token_file)}
            )
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
        self,
        users_db_url: str,
        issuer: Issuer,
        pki: Pki,
        tmp_path: Path,
        start_server: StartServer,
    ) -> None:
        token_file = tmp_path / "token"
        token_file.write_text("t\n")
        nobody = f"https://127.0.0.1:{free_port()}/openid/v1/jwks"
        server = start_server({"FINDSVC_DB_URL": users_db_url, **jwt_env(nobody, pki, token_file)})
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
