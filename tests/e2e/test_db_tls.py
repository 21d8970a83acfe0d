"""TLS to MySQL: a private MariaDB with a certificate, and an account that REQUIRES SSL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from findsvc.client import FindClient, FindError
from findsvc.config import DatabaseUrl, parse_database_url
from tests.e2e.conftest import KRISHNA_SINCE
from tests.support.certs import Pki, make_pki
from tests.support.db import admin_connection, create_database, insert_user, url_string
from tests.support.mariadb import PrivateMariaDB
from tests.support.server import ServerProcess

Start = Callable[[dict[str, str]], ServerProcess]
CERTIFICATE_FAILED = "TLS certificate verification failed"
LOGIN_REFUSED = "the server refused the login"


@pytest.fixture(scope="module")
def db_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("db-pki"), "findsvc test DB CA")


@pytest.fixture(scope="module")
def tls_only_account(db_pki: Pki) -> Iterator[DatabaseUrl]:
    """A user that may only log in over TLS, on a MariaDB whose certificate db_pki signed."""
    server = PrivateMariaDB([f"--ssl-cert={db_pki.server_cert}", f"--ssl-key={db_pki.server_key}"])
    server.start()
    try:
        admin = parse_database_url(server.url)
        create_database(admin)
        insert_user(admin, "KrishnaMohan", 9731423166, KRISHNA_SINCE)
        with admin_connection(admin) as conn, conn.cursor() as cursor:
            cursor.execute("CREATE USER 'tlsonly'@'%' IDENTIFIED BY 'tls-secret' REQUIRE SSL")
            cursor.execute("GRANT SELECT ON glarimy.ums_users TO 'tlsonly'@'%'")
        yield parse_database_url(f"mysql://tlsonly:tls-secret@127.0.0.1:{server.port}/glarimy")
    finally:
        server.destroy()


@pytest.fixture
def start(tls_only_account: DatabaseUrl) -> Iterator[Start]:
    servers: list[ServerProcess] = []

    def started(env: dict[str, str]) -> ServerProcess:
        server = ServerProcess({"FINDSVC_DB_URL": url_string(tls_only_account), **env})
        servers.append(server)
        return server

    yield started
    for server in servers:
        server.close()


def wait_for_log(server: ServerProcess, text: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in server.logs:
        assert time.monotonic() < deadline, f"no {text!r} in:\n{server.logs}"
        time.sleep(0.05)


def find_code(server: ServerProcess) -> grpc.StatusCode:
    with FindClient(server.target, deadline_s=5) as client:
        try:
            client.find("KrishnaMohan")
        except FindError as error:
            return error.code
    return grpc.StatusCode.OK


class TestTlsToMySql:
    def test_verify_identity_with_the_servers_ca_serves(self, start: Start, db_pki: Pki) -> None:
        server = start({"FINDSVC_DB_TLS": "verify-identity", "FINDSVC_DB_TLS_CA": str(db_pki.ca)})
        server.wait_health()
        with FindClient(server.target, deadline_s=5) as client:
            assert client.find("KrishnaMohan").phone == 9731423166

    def test_a_wrong_ca_is_unavailable_and_not_ready_with_one_line_saying_why(
        self, start: Start, tmp_path: Path
    ) -> None:
        other_ca = make_pki(tmp_path, "some other CA").ca
        server = start({"FINDSVC_DB_TLS": "verify-identity", "FINDSVC_DB_TLS_CA": str(other_ca)})
        wait_for_log(server, CERTIFICATE_FAILED)
        server.wait_health(status=health_pb2.HealthCheckResponse.NOT_SERVING)
        assert find_code(server) == grpc.StatusCode.UNAVAILABLE
        time.sleep(1.5)  # three more readiness checks fail the same way
        assert server.logs.count(CERTIFICATE_FAILED) == 1

    def test_off_against_an_account_that_requires_ssl_is_refused_and_findsvc_says_so(
        self, start: Start
    ) -> None:
        server = start({"FINDSVC_DB_TLS": "off"})
        wait_for_log(server, LOGIN_REFUSED)
        assert find_code(server) == grpc.StatusCode.UNAVAILABLE
        assert "FINDSVC_DB_TLS" in server.logs
