"""Callers have names: named tokens and Kubernetes-style JWTs, end to end, and the caller in
the metrics and the access log."""

from __future__ import annotations

import functools
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from devkit.envoy import EnvoyProcess
from devkit.server import ServerProcess, serving
from findsvc.client import AuthenticationError, FindClient
from findsvc.entrypoints.callers import OTHER, UNAUTHENTICATED
from tests.support.calls import KRISHNA, find, findsvc
from tests.support.certs import Pki
from tests.support.jwts import AUDIENCE, CALLER, ISSUER, Issuer
from tests.support.load import wait_for
from tests.support.metrics import FIND_USER_LABELS, log_entries, metrics_port, scrape, value

CHECKOUT_TOKEN = secrets.token_urlsafe(24)
ALLOWED = (CALLER, "system:serviceaccount:shop:billing")


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="module")
def auth_env(issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("auth")
    tokens = folder / "tokens"
    tokens.write_text(f"# token and caller\n{CHECKOUT_TOKEN} checkout\n")
    return {
        "FINDSVC_AUTH_TOKENS_FILE": str(tokens),
        "FINDSVC_AUTH_JWKS_FILE": str(issuer.write_jwks(folder / "jwks.json")),
        "FINDSVC_AUTH_JWT_ISSUER": ISSUER,
        "FINDSVC_AUTH_JWT_AUDIENCE": AUDIENCE,
        "FINDSVC_AUTH_JWT_CALLERS": ",".join(ALLOWED),
        "FINDSVC_ACCESS_LOG": "all",
    }


@pytest.fixture(scope="module")
def guarded(users_db_url: str, auth_env: dict[str, str]) -> Iterator[ServerProcess]:
    with serving({"FINDSVC_DB_URL": users_db_url, **auth_env}) as process:
        yield process


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def refusal(server: ServerProcess, token: str) -> tuple[grpc.StatusCode, str]:
    with server.channel() as channel:
        stub = channel.unary_unary("/glarimy.ums.find.v1.FindService/FindUser")
        try:
            stub(b"\n\x0cKrishnaMohan", timeout=5, metadata=bearer(token))
        except grpc.RpcError as error:
            return error.code(), error.details()
    raise AssertionError("the call passed")


def calls_by(server: ServerProcess, caller: str) -> float:
    samples = scrape(metrics_port(server))
    return value(samples, "grpc_server_handled_total", **FIND_USER_LABELS, caller=caller)


class TestEitherCredentialPasses:
    def test_a_named_token(self, guarded: ServerProcess) -> None:
        with guarded.channel() as channel:
            assert find(channel, KRISHNA, metadata=bearer(CHECKOUT_TOKEN)) == grpc.StatusCode.OK

    def test_a_service_account_jwt(self, guarded: ServerProcess, issuer: Issuer) -> None:
        with guarded.channel() as channel:
            assert find(channel, KRISHNA, metadata=bearer(issuer.token())) == grpc.StatusCode.OK


class TestARefusalSaysWhatWasWrong:
    @pytest.mark.parametrize(
        ("claims", "message"),
        [
            ({"exp": int(time.time()) - 3600}, "the token has expired"),
            ({"aud": "vault"}, "the token is for another audience"),
            ({"iss": "https://elsewhere"}, "the token is from another issuer"),
        ],
    )
    def test_for_a_bad_jwt(
        self,
        guarded: ServerProcess,
        issuer: Issuer,
        claims: dict[str, object],
        message: str,
    ) -> None:
        token = issuer.token(**claims)
        code, details = refusal(guarded, token)
        assert (code, details) == (grpc.StatusCode.UNAUTHENTICATED, message)
        assert token not in guarded.logs

    def test_for_a_token_the_file_does_not_hold(self, guarded: ServerProcess) -> None:
        token = secrets.token_urlsafe(24)
        assert refusal(guarded, token) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "the bearer token is not a known token",
        )
        assert token not in guarded.logs


class TestTheCallerIsCounted:
    def test_by_the_tokens_files_name_and_the_jwts_subject(
        self, guarded: ServerProcess, issuer: Issuer
    ) -> None:
        with guarded.channel() as channel:
            for token in (CHECKOUT_TOKEN, issuer.token(), "not-a-token"):
                find(channel, KRISHNA, metadata=bearer(token))
        wait_for(lambda: calls_by(guarded, UNAUTHENTICATED) >= 1, 10)
        assert calls_by(guarded, "checkout") >= 1
        assert calls_by(guarded, CALLER) >= 1

    def test_a_subject_off_the_allow_list_is_other(
        self, guarded: ServerProcess, issuer: Issuer
    ) -> None:
        stranger = "system:serviceaccount:tenant-x:" + secrets.token_hex(8)
        with guarded.channel() as channel:
            assert find(channel, KRISHNA, metadata=bearer(issuer.token(sub=stranger))) == (
                grpc.StatusCode.OK
            )
        wait_for(lambda: calls_by(guarded, OTHER) >= 1, 10)
        assert stranger not in str(scrape(metrics_port(guarded)))

    def test_in_the_access_log(self, guarded: ServerProcess) -> None:
        with guarded.channel() as channel:
            find(channel, KRISHNA, metadata=bearer(CHECKOUT_TOKEN))

        def logged() -> bool:
            return any(entry.get("caller") == "checkout" for entry in log_entries(guarded))

        wait_for(logged, 10)


@pytest.fixture(scope="module")
def guarded_tls(users_db_url: str, auth_env: dict[str, str], pki: Pki) -> Iterator[ServerProcess]:
    env = {"FINDSVC_DB_URL": users_db_url, **auth_env, **pki.server_env()}
    with serving(env, credentials=pki.credentials()) as process:
        yield process


class TestTheClientReadsARotatedTokenFile:
    """As the kubelet rotates a projected token: the file is swapped, the client is not."""

    def test_over_plaintext(self, guarded: ServerProcess, tmp_path: Path) -> None:
        self.check(FindClient, guarded.target, tmp_path)

    def test_over_tls(self, guarded_tls: ServerProcess, pki: Pki, tmp_path: Path) -> None:
        self.check(
            functools.partial(FindClient, root_certificates=pki.ca.read_bytes()),
            guarded_tls.target,
            tmp_path,
        )

    def check(self, client_for: Callable[..., FindClient], target: str, folder: Path) -> None:
        token_file = folder / "token"
        token_file.write_text("not-a-token-findsvc-knows\n")
        with client_for(target, token_file=token_file) as client:
            with pytest.raises(AuthenticationError):
                client.find(KRISHNA)
            rotated = folder / "token.new"
            rotated.write_text(CHECKOUT_TOKEN + "\n")
            os.replace(rotated, token_file)
            assert client.find(KRISHNA).name == KRISHNA


class TestRest:
    def test_a_jwt_reaches_findsvc_through_envoy(
        self, guarded: ServerProcess, issuer: Issuer
    ) -> None:
        with EnvoyProcess(guarded.port) as envoy:
            envoy.wait_ready()
            headers = {"Authorization": f"Bearer {issuer.token()}"}
            assert envoy.request("GET", f"/user/{KRISHNA}", headers=headers).status == 200
            expired = {"Authorization": f"Bearer {issuer.token(exp=int(time.time()) - 3600)}"}
            reply = envoy.request("GET", f"/user/{KRISHNA}", headers=expired)
            assert (reply.status, reply.json()["message"]) == (401, "the token has expired")


class TestAWrongSetupIsOneLineAndExit2:
    def test_a_token_on_two_lines(self, tmp_path: Path) -> None:
        tokens = tmp_path / "tokens"
        tokens.write_text(f"{CHECKOUT_TOKEN} checkout\n{CHECKOUT_TOKEN} billing\n")
        result = findsvc("serve", env=serve_env(FINDSVC_AUTH_TOKENS_FILE=str(tokens)))
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            "findsvc: FINDSVC_AUTH_TOKENS_FILE: line 2: this token is on an earlier line too"
        ]
        assert CHECKOUT_TOKEN not in result.stderr

    def test_a_jwks_file_without_issuer_and_audience(self, tmp_path: Path, issuer: Issuer) -> None:
        jwks = issuer.write_jwks(tmp_path / "jwks.json")
        result = findsvc("serve", env=serve_env(FINDSVC_AUTH_JWKS_FILE=str(jwks)))
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            "findsvc: FINDSVC_AUTH_JWKS_FILE needs FINDSVC_AUTH_JWT_ISSUER and "
            "FINDSVC_AUTH_JWT_AUDIENCE"
        ]


def serve_env(**settings: str) -> dict[str, str]:
    return {**os.environ, "FINDSVC_PORT": "0", "FINDSVC_METRICS_PORT": "0", **settings}
