"""Who may read users: TLS, mutual TLS, bearer tokens, and a read-only database account."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pymysql
import pytest
from grpc_health.v1 import health_pb2

from findsvc.config import DatabaseUrl
from findsvc.entrypoints.interceptors.token_auth import RELOAD_CHECK_S
from tests.support.certs import Pki, make_pki
from tests.support.db import admin_connection, url_string
from tests.support.load import find, health_status, wait_for
from tests.support.metrics import log_entries
from tests.support.server import ServerProcess

SERVING = health_pb2.HealthCheckResponse.SERVING
PHONE = "9731423166"


def tls_channel(server: ServerProcess, pki: Pki, client_cert: bool) -> grpc.Channel:
    return server.channel(pki.credentials(client_cert=client_cert))


def server_with_live_tls_files(
    users_db_url: str, pki: Pki, tmp_path: Path
) -> tuple[ServerProcess, Path, Path]:
    """A TLS server reading copies of `pki`'s server files, which a test may then change."""
    live_cert, live_key = tmp_path / "tls.crt", tmp_path / "tls.key"
    live_cert.write_bytes(pki.server_cert.read_bytes())
    live_key.write_bytes(pki.server_key.read_bytes())
    server = ServerProcess(
        {
            "FINDSVC_DB_URL": users_db_url,
            "FINDSVC_TLS_CERT": str(live_cert),
            "FINDSVC_TLS_KEY": str(live_key),
        }
    )
    return server, live_cert, live_key


class TestTls:
    def test_a_client_trusting_the_ca_finds_users(
        self, tls_server: ServerProcess, pki: Pki
    ) -> None:
        with tls_channel(tls_server, pki, client_cert=False) as channel:
            assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK

    def test_a_plaintext_client_gets_nothing(self, tls_server: ServerProcess) -> None:
        with tls_server.channel() as plaintext:
            assert find(plaintext, "KrishnaMohan", timeout_s=2) != grpc.StatusCode.OK

    def test_a_renewed_certificate_is_served_without_a_restart(
        self, users_db_url: str, tmp_path: Path
    ) -> None:
        old, new = make_pki(tmp_path / "old"), make_pki(tmp_path / "new", "renewed CA")
        server, live_cert, live_key = server_with_live_tls_files(users_db_url, old, tmp_path)
        try:
            server.wait_health(credentials=old.credentials())
            for source, live in ((new.server_key, live_key), (new.server_cert, live_cert)):
                staged = live.with_suffix(".new")
                staged.write_bytes(source.read_bytes())
                os.replace(staged, live)  # as a Secret update does: all at once
            with tls_channel(server, new, client_cert=False) as channel:
                assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK
            assert server.process.poll() is None
        finally:
            server.close()

    def test_broken_tls_files_are_reported_once_however_many_handshakes_follow(
        self, users_db_url: str, pki: Pki, tmp_path: Path
    ) -> None:
        server, live_cert, _live_key = server_with_live_tls_files(users_db_url, pki, tmp_path)
        try:
            server.wait_health(credentials=pki.credentials())
            live_cert.write_text("half written\n")
            for _ in range(5):  # a new connection each: a handshake each
                with tls_channel(server, pki, client_cert=False) as channel:
                    assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK
            warnings = [e for e in log_entries(server) if "do not load" in e.get("message", "")]
            assert len(warnings) == 1
        finally:
            server.close()

    def test_unusable_tls_files_are_one_line_and_exit_code_2(
        self, users_db_url: str, pki: Pki, tmp_path: Path
    ) -> None:
        garbage = tmp_path / "not-a-cert.pem"
        garbage.write_text("hello\n")
        server = ServerProcess(
            {
                "FINDSVC_DB_URL": users_db_url,
                "FINDSVC_TLS_CERT": str(garbage),
                "FINDSVC_TLS_KEY": str(pki.server_key),
            }
        )
        try:
            assert server.process.wait(timeout=30) == 2
            lines = server.logs.strip().splitlines()
            assert len(lines) == 1
            assert "FINDSVC_TLS_CERT" in lines[0]
        finally:
            server.close()


class TestMutualTls:
    def test_a_client_with_a_certificate_from_the_ca_finds_users(
        self, mtls_server: ServerProcess, pki: Pki
    ) -> None:
        with tls_channel(mtls_server, pki, client_cert=True) as channel:
            assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK

    def test_a_client_without_a_certificate_is_refused(
        self, mtls_server: ServerProcess, pki: Pki
    ) -> None:
        with tls_channel(mtls_server, pki, client_cert=False) as channel:
            assert find(channel, "KrishnaMohan", timeout_s=3) == grpc.StatusCode.UNAVAILABLE

    def test_a_client_with_a_certificate_from_another_ca_is_refused(
        self, mtls_server: ServerProcess, pki: Pki, tmp_path: Path
    ) -> None:
        stranger = make_pki(tmp_path, "some other CA")
        credentials = grpc.ssl_channel_credentials(
            root_certificates=pki.ca.read_bytes(),
            private_key=stranger.client_key.read_bytes(),
            certificate_chain=stranger.client_cert.read_bytes(),
        )
        with mtls_server.channel(credentials) as channel:
            assert find(channel, "KrishnaMohan", timeout_s=3) == grpc.StatusCode.UNAVAILABLE


def with_token(token: str) -> grpc.CallCredentials:
    return grpc.access_token_call_credentials(token)


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text(f"# one token a line\n{secrets.token_urlsafe(24)}\n\n")
    return path


@pytest.fixture
def token_server(users_db_url: str, tokens_file: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        {"FINDSVC_DB_URL": users_db_url, "FINDSVC_AUTH_TOKENS_FILE": str(tokens_file)}
    )
    server.wait_health()  # health stays open: no token needed
    yield server
    server.close()


def find_with_metadata(server: ServerProcess, metadata: tuple[tuple[str, str], ...]) -> object:
    from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

    with server.channel() as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        try:
            stub.FindUser(
                find_service_pb2.FindUserRequest(name="KrishnaMohan"), metadata=metadata, timeout=5
            )
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK


def the_token(tokens_file: Path) -> str:
    return next(line for line in tokens_file.read_text().splitlines() if line[:1] not in "# ")


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
        staged = tokens_file.with_suffix(".new")
        staged.write_text(f"{the_token(tokens_file)}\n  {note}\n")
        os.replace(staged, tokens_file)
        time.sleep(RELOAD_CHECK_S * 1.5)  # past the next reload check
        assert (
            find_with_metadata(
                token_server, (("authorization", f"Bearer {the_token(tokens_file)}"),)
            )
            == grpc.StatusCode.OK
        )
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
        self, users_db_url: str, tmp_path: Path
    ) -> None:
        empty = tmp_path / "empty"
        empty.write_text("# nothing yet\n")
        server = ServerProcess(
            {"FINDSVC_DB_URL": users_db_url, "FINDSVC_AUTH_TOKENS_FILE": str(empty)}
        )
        try:
            assert server.process.wait(timeout=30) == 2
            assert len(server.logs.strip().splitlines()) == 1
        finally:
            server.close()


class TestReadOnlyDatabaseUser:
    @pytest.fixture
    def account(self, users_db: DatabaseUrl, tmp_path: Path) -> Iterator[tuple[DatabaseUrl, Path]]:
        user = f"findsvc_ro_{uuid.uuid4().hex[:8]}"
        password_file = tmp_path / "db-password"
        password_file.write_text(secrets.token_urlsafe(18) + "\n")
        granted = subprocess.run(
            [sys.executable, "-m", "findsvc", "db", "grant", user, "--database",
             users_db.database, "--password-file", str(password_file)],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        with admin_connection(users_db) as conn, conn.cursor() as cursor:
            for statement in granted.stdout.split(";\n"):
                sql = "\n".join(x for x in statement.splitlines() if not x.startswith("--"))
                if sql.strip():
                    cursor.execute(sql)
        yield replace(users_db, user=user, password=None), password_file
        with admin_connection(users_db) as conn, conn.cursor() as cursor:
            cursor.execute("DROP USER IF EXISTS %s@'%%'", (user,))

    def test_the_service_works_under_the_granted_account(
        self, account: tuple[DatabaseUrl, Path]
    ) -> None:
        url, password_file = account
        server = ServerProcess(
            {"FINDSVC_DB_URL": url_string(url), "FINDSVC_DB_PASSWORD_FILE": str(password_file)}
        )
        try:
            server.wait_health()
            with server.channel() as channel:
                assert find(channel, "KrishnaMohan") == grpc.StatusCode.OK
                assert find(channel, "NobodyByThisName") == grpc.StatusCode.NOT_FOUND
            assert PHONE not in server.logs
        finally:
            server.close()

    def test_the_granted_account_cannot_write(self, account: tuple[DatabaseUrl, Path]) -> None:
        url, password_file = account
        password = password_file.read_text().strip()
        with (
            pymysql.connect(
                host=url.host,
                port=url.port,
                user=url.user,
                password=password,
                database=url.database,
            ) as conn,
            conn.cursor() as cursor,
            pytest.raises(pymysql.err.OperationalError) as raised,
        ):
            cursor.execute("DELETE FROM ums_users")
        assert raised.value.args[0] == 1142  # command denied
