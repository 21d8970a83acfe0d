"""FindClient's TLS, mutual TLS and bearer-token options, and the find command's, against real
servers."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from findsvc.client import (
    AuthenticationError,
    FindClient,
    ServiceUnavailableError,
    UserRecord,
)
from tests.e2e.conftest import KRISHNA_SINCE
from tests.support.certs import Pki, make_pki
from tests.support.proxy import TcpProxy
from tests.support.server import ServerProcess, findsvc

TOKEN = secrets.token_urlsafe(24)
KRISHNA = UserRecord(name="KrishnaMohan", phone=9731423166, since=KRISHNA_SINCE)


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
    process = ServerProcess({"FINDSVC_DB_URL": users_db_url, **pki.server_env(), **tokens_env})
    process.wait_health(credentials=pki.credentials())
    yield process
    process.close()


@pytest.fixture(scope="module")
def plaintext_token_server(
    users_db_url: str, tokens_env: dict[str, str]
) -> Iterator[ServerProcess]:
    """No TLS, and FindService only for a bearer token it lists."""
    process = ServerProcess({"FINDSVC_DB_URL": users_db_url, **tokens_env})
    process.wait_health()
    yield process
    process.close()


@contextlib.contextmanager
def wiretap(server: ServerProcess) -> Iterator[TcpProxy]:
    """A proxy in front of `server` that keeps every byte it forwards."""
    proxy = TcpProxy("127.0.0.1", server.port, record=True)
    try:
        yield proxy
    finally:
        proxy.close()


class TestTls:
    def test_a_client_trusting_the_ca_finds_the_record(
        self, tls_server: ServerProcess, pki: Pki
    ) -> None:
        with FindClient(tls_server.target, root_certificates=pki.ca.read_bytes()) as client:
            assert client.find("KrishnaMohan") == KRISHNA

    def test_a_client_trusting_another_ca_raises_service_unavailable(
        self, tls_server: ServerProcess, tmp_path: Path
    ) -> None:
        stranger = make_pki(tmp_path, "some other CA")
        with (
            FindClient(tls_server.target, root_certificates=stranger.ca.read_bytes()) as client,
            pytest.raises(ServiceUnavailableError) as raised,
        ):
            client.find("KrishnaMohan")
        assert "CERTIFICATE_VERIFY_FAILED" in raised.value.details

    def test_a_client_with_only_the_system_cas_raises_service_unavailable(
        self, tls_server: ServerProcess
    ) -> None:
        with (
            FindClient(tls_server.target, tls=True) as client,
            pytest.raises(ServiceUnavailableError) as raised,
        ):
            client.find("KrishnaMohan")
        assert "CERTIFICATE_VERIFY_FAILED" in raised.value.details


class TestMutualTls:
    def test_a_client_with_a_certificate_from_the_ca_finds_the_record(
        self, mtls_server: ServerProcess, pki: Pki
    ) -> None:
        with FindClient(
            mtls_server.target,
            root_certificates=pki.ca.read_bytes(),
            client_certificate=pki.client_cert.read_bytes(),
            client_key=pki.client_key.read_bytes(),
        ) as client:
            assert client.find("KrishnaMohan") == KRISHNA

    def test_a_client_without_a_certificate_is_refused_as_service_unavailable(
        self, mtls_server: ServerProcess, pki: Pki
    ) -> None:
        with (
            FindClient(mtls_server.target, root_certificates=pki.ca.read_bytes()) as client,
            pytest.raises(ServiceUnavailableError),
        ):
            client.find("KrishnaMohan")


class TestBearerToken:
    def test_the_listed_token_finds_the_record(
        self, tls_token_server: ServerProcess, pki: Pki
    ) -> None:
        ca = pki.ca.read_bytes()
        with FindClient(tls_token_server.target, root_certificates=ca, token=TOKEN) as client:
            assert client.find("KrishnaMohan") == KRISHNA

    @pytest.mark.parametrize("token", [TOKEN[:-1] + "x", None], ids=["wrong", "none"])
    def test_a_wrong_or_no_token_raises_authentication_error(
        self, tls_token_server: ServerProcess, pki: Pki, token: str | None
    ) -> None:
        ca = pki.ca.read_bytes()
        with (
            FindClient(tls_token_server.target, root_certificates=ca, token=token) as client,
            pytest.raises(AuthenticationError) as raised,
        ):
            client.find("KrishnaMohan")
        assert raised.value.code == grpc.StatusCode.UNAUTHENTICATED

    def test_over_tls_the_token_is_not_on_the_wire(
        self, tls_token_server: ServerProcess, pki: Pki
    ) -> None:
        ca = pki.ca.read_bytes()
        with (
            wiretap(tls_token_server) as tap,
            FindClient(f"127.0.0.1:{tap.port}", root_certificates=ca, token=TOKEN) as client,
        ):
            assert client.find("KrishnaMohan") == KRISHNA
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
            assert client.find("KrishnaMohan") == KRISHNA
        assert b"authorization" in tap.forwarded
        assert TOKEN.encode() in tap.forwarded


class TestFindCommand:
    def test_tls_and_a_token_file_print_the_record_as_json(
        self, tls_token_server: ServerProcess, pki: Pki, tmp_path: Path
    ) -> None:
        token_file = tmp_path / "token"
        token_file.write_text(f"{TOKEN}\n")
        result = findsvc(
            "find", "KrishnaMohan", "--target", tls_token_server.target,
            "--ca-cert", str(pki.ca), "--token-file", str(token_file),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {
            "name": "KrishnaMohan",
            "phone": 9731423166,
            "since": KRISHNA_SINCE.isoformat(),
        }

    def test_without_the_token_file_it_names_unauthenticated_and_exits_1(
        self, tls_token_server: ServerProcess, pki: Pki
    ) -> None:
        result = findsvc(
            "find", "KrishnaMohan", "--target", tls_token_server.target, "--ca-cert", str(pki.ca)
        )
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            "findsvc find: UNAUTHENTICATED: a valid bearer token is required"
        ]
