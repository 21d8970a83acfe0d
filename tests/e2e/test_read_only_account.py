"""findsvc under the read-only database account that `findsvc db grant` prints: it serves,
and the account cannot write."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pymysql
import pytest

from devkit.server import StartServer
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, KRISHNA_PHONE, find
from tests.support.db import admin_connection, grant_read_only_account, url_string


class TestReadOnlyDatabaseUser:
    @pytest.fixture
    def account(self, users_db: DatabaseUrl, tmp_path: Path) -> Iterator[tuple[DatabaseUrl, Path]]:
        user = f"findsvc_ro_{uuid.uuid4().hex[:8]}"
        password_file = tmp_path / "db-password"
        password_file.write_text(secrets.token_urlsafe(18) + "\n")
        grant_read_only_account(users_db, user, password_file)
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
