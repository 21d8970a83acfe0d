"""Bearer-token auth end to end, on the caller's side: what FindClient and the find command
send, and what the wire shows of it."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from devkit.server import ServerProcess, serving
from findsvc.client import AuthenticationError, FindClient
from tests.support.calls import (
    KRISHNA,
    KRISHNA_JSON,
    KRISHNA_RECORD,
    findsvc,
)
from tests.support.certs import Pki
from tests.support.proxy import TcpProxy

TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def tokens_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tokens = tmp_path_factory.mktemp("tokens") / "tokens"
    tokens.write_text(f"{TOKEN}\n")
    return {"FINDSVC_AUTH_TOKENS_FILE": str(tokens)}


@pytest.fixture(scope="module")
def tls_token_server(
    users_db_url: str, pki: Pki, tokens_env: dict[str, str]
) -> Iterator[ServerProcess]:
    """TLS, and FindService only for a bearer token it lists."""
    env = {"FINDSVC_DB_URL": users_db_url, **pki.server_env(), **tokens_env}
    with serving(env, credentials=pki.credentials()) as process:
        yield process


@pytest.fixture(scope="module")
def plaintext_token_server(
    users_db_url: str, tokens_env: dict[str, str]
) -> Iterator[ServerProcess]:
    """No TLS, and FindService only for a bearer token it lists."""
    with serving({"FINDSVC_DB_URL": users_db_url, **tokens_env}) as process:
        yield process


@contextlib.contextmanager
def wiretap(server: ServerProcess) -> Iterator[TcpProxy]:
    """A proxy in front of `server` that keeps every byte it forwards."""
    proxy = TcpProxy("127.0.0.1", server.port, record=True)
    try:
        yield proxy
    finally:
        proxy.close()


class TestFindClientsToken:
    def test_the_listed_token_finds_the_record(
        self, tls_token_server: ServerProcess, pki: Pki
    ) -> None:
        ca = pki.ca.read_bytes()
        with FindClient(tls_token_server.target, root_certificates=ca, token=TOKEN) as client:
            assert client.find(KRISHNA) == KRISHNA_RECORD

    @pytest.mark.parametrize("token", [TOKEN[:-1] + "x", None], ids=["wrong", "none"])
    def test_a_wrong_or_no_token_raises_authentication_error(
        self, tls_token_server: ServerProcess, pki: Pki, token: str | None
    ) -> None:
        ca = pki.ca.read_bytes()
        with (
            FindClient(tls_token_server.target, root_certificates=ca, token=token) as client,
            pytest.raises(AuthenticationError) as raised,
        ):
            client.find(KRISHNA)
        assert raised.value.code == grpc.StatusCode.UNAUTHENTICATED

    def test_over_tls_the_token_is_not_on_the_wire(
        self, tls_token_server: ServerProcess, pki: Pki
    ) -> None:
        ca = pki.ca.read_bytes()
        with (
            wiretap(tls_token_server) as tap,
            FindClient(f"127.0.0.1:{tap.port}", root_certificates=ca, token=TOKEN) as client,
        ):
            assert client.find(KRISHNA) == KRISHNA_RECORD
        assert TOKEN.encode() not in tap.forwarded

    def test_without_tls_the_token_goes_in_clear_as_authorization_metadata(
        self, plaintext_token_server: ServerProcess
    ) -> None:
        """As documented: fit only for loopback, or a mesh that encrypts. This also shows the
        wiretap would see a token that went in clear."""
        with (
            wiretap(plaintext_token_server) as tap,
            FindClient(f"127.0.0.1:{tap.port}", token=TOKEN) as client,
        ):
            assert client.find(KRISHNA) == KRISHNA_RECORD
        assert b"authorization" in tap.forwarded
        assert TOKEN.encode() in tap.forwarded


class TestFindCommandsTokenFile:
    def test_tls_and_a_token_file_print_the_record_as_json(
        self, tls_token_server: ServerProcess, pki: Pki, tmp_path: Path
    ) -> None:
        token_file = tmp_path / "token"
        token_file.write_text(f"{TOKEN}\n")
        result = findsvc(
            "find", KRISHNA, "--target", tls_token_server.target,
            "--ca-cert", str(pki.ca), "--token-file", str(token_file),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == KRISHNA_JSON  # as grpcurl and REST print it

    def test_without_the_token_file_it_names_unauthenticated_and_exits_1(
        self, tls_token_server: ServerProcess, pki: Pki
    ) -> None:
        result = findsvc(
            "find", KRISHNA, "--target", tls_token_server.target, "--ca-cert", str(pki.ca)
        )
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            "findsvc find: UNAUTHENTICATED: a valid bearer token is required"
        ]
