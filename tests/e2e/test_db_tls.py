"""TLS to MySQL: the test MariaDB has a certificate, and an account REQUIRES SSL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from devkit.server import ServerProcess, StartServer
from findsvc.client import FindClient, FindError
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, KRISHNA_PHONE, NOT_SERVING, findsvc
from tests.support.certs import make_pki
from tests.support.db import admin_connection, global_status, url_string
from tests.support.load import wait_for
from tests.support.metrics import wait_for_log

Start = Callable[[dict[str, str]], ServerProcess]
CERTIFICATE_FAILED = "TLS certificate verification failed"
LOGIN_REFUSED = "the server refused the login"


@pytest.fixture(scope="module")
def tls_only_account(users_db: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """A user that may log in over TLS only (the test MySQL has a certificate)."""
    user = f"tls{uuid.uuid4().hex[:8]}"
    with admin_connection(users_db) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY 'tls-secret' REQUIRE SSL", (user,))
        cursor.execute(f"GRANT SELECT ON `{users_db.database}`.ums_users TO %s@'%%'", (user,))
    yield replace(users_db, user=user, password="tls-secret")
    with admin_connection(users_db) as conn, conn.cursor() as cursor:
        cursor.execute("DROP USER %s@'%%'", (user,))


@pytest.fixture
def start(tls_only_account: DatabaseUrl, start_server: StartServer) -> Start:
    """Servers on the TLS-only account, started but not waited for: each test waits for what
    it expects."""
    url = url_string(tls_only_account)
    return lambda env: start_server({"FINDSVC_DB_URL": url, **env}, wait=False)


def aborted_connects(url: DatabaseUrl) -> int:
    return global_status(url, "Aborted_connects")


def find_code(server: ServerProcess) -> grpc.StatusCode:
    with FindClient(server.target, deadline_s=5) as client:
        try:
            client.find(KRISHNA)
        except FindError as error:
            return error.code
    return grpc.StatusCode.OK


class TestTlsToMySql:
    def test_verify_identity_with_the_servers_ca_serves(
        self, start: Start, mysql_server_ca: Path
    ) -> None:
        server = start(
            {"FINDSVC_DB_TLS": "verify-identity", "FINDSVC_DB_TLS_CA": str(mysql_server_ca)}
        )
        server.wait_health()
        with FindClient(server.target, deadline_s=5) as client:
            assert client.find(KRISHNA).phone == KRISHNA_PHONE

    def test_a_wrong_ca_is_unavailable_and_not_ready_with_one_line_saying_why(
        self, start: Start, tmp_path: Path, users_db: DatabaseUrl
    ) -> None:
        other_ca = make_pki(tmp_path, "some other CA").ca
        server = start({"FINDSVC_DB_TLS": "verify-identity", "FINDSVC_DB_TLS_CA": str(other_ca)})
        wait_for_log(server, CERTIFICATE_FAILED)
        server.wait_health(status=NOT_SERVING)
        assert find_code(server) == grpc.StatusCode.UNAVAILABLE
        refused = aborted_connects(users_db)
        # Three more readiness checks fail the same way: MariaDB counts each broken handshake.
        wait_for(lambda: aborted_connects(users_db) >= refused + 3, 30)
        assert server.logs.count(CERTIFICATE_FAILED) == 1

    def test_off_against_an_account_that_requires_ssl_is_refused_and_findsvc_says_so(
        self, start: Start
    ) -> None:
        server = start({"FINDSVC_DB_TLS": "off"})
        wait_for_log(server, LOGIN_REFUSED)
        assert find_code(server) == grpc.StatusCode.UNAVAILABLE
        assert "FINDSVC_DB_TLS" in server.logs

    def test_a_ca_file_that_is_no_certificate_stops_the_start_with_one_line(
        self, tls_only_account: DatabaseUrl, tmp_path: Path
    ) -> None:
        not_a_ca = tmp_path / "ca.pem"
        not_a_ca.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
        env = {
            **os.environ,
            "FINDSVC_DB_URL": url_string(tls_only_account),
            "FINDSVC_DB_TLS": "verify-identity",
            "FINDSVC_DB_TLS_CA": str(not_a_ca),
            "FINDSVC_PORT": "0",
            "FINDSVC_METRICS_PORT": "0",
        }
        result = findsvc("serve", env=env)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "FINDSVC_DB_TLS_CA" in result.stderr
