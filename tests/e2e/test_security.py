"""Who may read users: bearer tokens, and a read-only database account (TLS: test_tls.py)."""

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

from devkit.server import ServerProcess, StartServer
from findsvc.config import DatabaseUrl
from findsvc.entrypoints.auth import RELOAD_CHECK_S
from tests.support.calls import KRISHNA, KRISHNA_PHONE, SERVING, find, health_status
from tests.support.db import admin_connection, url_string
from tests.support.load import wait_for
from tests.support.metrics import log_entries


def with_token(token: str) -> grpc.CallCredentials:
    return grpc.access_token_call_credentials(token)


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text(f"# one token a line\n{secrets.token_urlsafe(24)}\n\n")
    return path


@pytest.fixture
def token_server(users_db_url: str, tokens_file: Path, start_server: StartServer) -> ServerProcess:
    # Healthy without a token: health stays open.
    return start_server({"FINDSVC_DB_URL": users_db_url, "FINDSVC_AUTH_TOKENS_FILE": str(tokens_file)})


def find_with_metadata(
    server: ServerProcess, metadata: tuple[tuple[str, str], ...]
) -> grpc.StatusCode:
    with server.channel() as channel:
        return find(channel, KRISHNA, metadata=metadata)


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
        self, account: tuple[DatabaseUrl, Path], start_server: StartServer
    ) -> None:
        url, password_file = account
        server = start_server(
            {"FINDSVC_DB_URL": url_string(url), "FINDSVC_DB_PASSWORD_FILE": str(password_file)}
        )
        with server.channel() as channel:
            assert find(channel, KRISHNA) == grpc.StatusCode.OK
            assert find(channel, "NobodyByThisName") == grpc.StatusCode.NOT_FOUND
        assert str(KRISHNA_PHONE) not in server.logs

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
