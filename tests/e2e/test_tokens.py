"""Bearer-token auth end to end: what the server accepts and reloads, what FindClient and the
find command send, and what the wire shows of it."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from devkit.server import ServerProcess, StartServer, serving
from findsvc.client import AuthenticationError, FindClient
from findsvc.entrypoints.middleware.token_auth import RELOAD_CHECK_S
from tests.support.calls import (
    KRISHNA,
    KRISHNA_JSON,
    KRISHNA_RECORD,
    SERVING,
    find,
    findsvc,
    health_status,
)
from tests.support.certs import Pki
from tests.support.load import wait_for
from tests.support.metrics import log_entries
from tests.support.proxy import TcpProxy


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text(f"# one token a line\n{secrets.token_urlsafe(24)}\n\n")
    return path


@pytest.fixture
def token_server(users_db_url: str, tokens_file: Path, start_server: StartServer) -> ServerProcess:
    # Healthy without a token: health stays open.
    return start_server(
        {"FINDSVC_DB_URL": users_db_url, "FINDSVC_AUTH_TOKENS_FILE": str(tokens_file)}
    )


def find_with_metadata(
    server: ServerProcess, metadata: tuple[tuple[str, str], ...]
) -> grpc.StatusCode:
    with server.channel() as channel:
        return find(channel, KRISHNA, metadata=metadata)


def the_token(tokens_file: Path) -> str:
    return next(line for line in tokens_file.read_text().splitlines() if line[:1] not in "# ")


def reloads(server: ServerProcess) -> list[dict[str, object]]:
    return [e for e in log_entries(server) if e.get("message") == "tokens reloaded"]


class TestTokens:
    def test_a_call_without_a_token_is_unauthenticated(self, token_server: ServerProcess) -> None:
        assert find_with_metadata(token_server, ()) == grpc.StatusCode.UNAUTHENTICATED

    def test_a_wrong_token_is_unauthenticated(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        token = the_token(tokens_file)
        last = "y" if token.endswith("x") else "x"  # 1 in 64 tokens ends with x already
        wrong = (("authorization", "Bearer " + token[:-1] + last),)
        assert find_with_metadata(token_server, wrong) == grpc.StatusCode.UNAUTHENTICATED
        not_bearer = (("authorization", "Basic " + the_token(tokens_file)),)
        assert find_with_metadata(token_server, not_bearer) == grpc.StatusCode.UNAUTHENTICATED

    def test_a_listed_token_finds_users(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        good = (("authorization", "Bearer " + the_token(tokens_file)),)
        assert find_with_metadata(token_server, good) == grpc.StatusCode.OK

    def test_a_rotated_tokens_file_takes_effect_without_a_restart(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        old, new = the_token(tokens_file), secrets.token_urlsafe(24)
        staged = tokens_file.with_suffix(".new")
        staged.write_text(f"# rotated\n{new}\n")
        os.replace(staged, tokens_file)
        wait_for(
            lambda: (
                find_with_metadata(token_server, (("authorization", f"Bearer {new}"),))
                == grpc.StatusCode.OK
            ),
            5,
        )
        refused = find_with_metadata(token_server, (("authorization", f"Bearer {old}"),))
        assert refused == grpc.StatusCode.UNAUTHENTICATED

    def test_an_indented_comment_line_is_not_a_token(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        note = "# an indented note"
        good = (("authorization", f"Bearer {the_token(tokens_file)}"),)
        reloads_before = len(reloads(token_server))
        staged = tokens_file.with_suffix(".new")
        staged.write_text(f"{the_token(tokens_file)}\n  {note}\n")
        os.replace(staged, tokens_file)
        # A call is what looks for a change: call until the new file was read.
        wait_for(
            lambda: (
                find_with_metadata(token_server, good) == grpc.StatusCode.OK
                and len(reloads(token_server)) > reloads_before
            ),
            RELOAD_CHECK_S * 20,
        )
        assert reloads(token_server)[-1]["tokens"] == 1  # the note is not a second token
        assert (
            find_with_metadata(token_server, (("authorization", f"Bearer {note}"),))
            == grpc.StatusCode.UNAUTHENTICATED
        )

    def test_an_emptied_tokens_file_keeps_the_last_good_tokens_and_warns_once(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        good = (("authorization", "Bearer " + the_token(tokens_file)),)
        tokens_file.write_text("")  # truncated in place, as a failed write leaves it
        deadline = time.monotonic() + RELOAD_CHECK_S * 4
        while time.monotonic() < deadline:  # several reload checks
            assert find_with_metadata(token_server, good) == grpc.StatusCode.OK
            time.sleep(0.2)
        warnings = [
            e for e in log_entries(token_server) if "holds no tokens" in e.get("message", "")
        ]
        assert len(warnings) == 1

    def test_health_needs_no_token(self, token_server: ServerProcess) -> None:
        with token_server.channel() as channel:
            assert health_status(channel, "liveness") == SERVING

    def test_a_tokens_file_without_tokens_is_one_line_and_exit_code_2(
        self, users_db_url: str, tmp_path: Path, start_server: StartServer
    ) -> None:
        empty = tmp_path / "empty"
        empty.write_text("# nothing yet\n")
        server = start_server(
            {"FINDSVC_DB_URL": users_db_url, "FINDSVC_AUTH_TOKENS_FILE": str(empty)},
            wait=False,
        )
        assert server.process.wait(timeout=30) == 2
        assert len(server.logs.strip().splitlines()) == 1


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
