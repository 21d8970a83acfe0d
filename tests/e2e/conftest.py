from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from findsvc.config import DatabaseUrl
from tests.support.certs import Pki, make_pki
from tests.support.db import admin_connection, create_database, insert_user, url_string
from tests.support.server import ServerProcess

KRISHNA_SINCE = datetime(2018, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def users_db(mysql_server_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """The AddService's table with a known user and a corrupt row."""
    url = replace(mysql_server_url, database=f"findsvc_e2e_{uuid.uuid4().hex[:12]}")
    create_database(url)
    insert_user(url, "KrishnaMohan", 9731423166, KRISHNA_SINCE)
    insert_user(url, "BrokenPhone1", 12345, KRISHNA_SINCE)
    yield url
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE `{url.database}`")


@pytest.fixture(scope="module")
def server(users_db: DatabaseUrl) -> Iterator[ServerProcess]:
    process = ServerProcess({"FINDSVC_DB_URL": url_string(users_db)})
    process.wait_health()
    yield process
    process.close()


@pytest.fixture(scope="module")
def users_db_url(users_db: DatabaseUrl) -> str:
    return url_string(users_db)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_server(users_db_url: str, pki: Pki) -> Iterator[ServerProcess]:
    """Serves TLS only, with a certificate from `pki`'s CA."""
    process = ServerProcess({"FINDSVC_DB_URL": users_db_url, **pki.server_env()})
    process.wait_health(credentials=pki.credentials())
    yield process
    process.close()


@pytest.fixture(scope="module")
def mtls_server(users_db_url: str, pki: Pki) -> Iterator[ServerProcess]:
    """Serves mutual TLS only: clients show a certificate from `pki`'s CA."""
    process = ServerProcess({"FINDSVC_DB_URL": users_db_url, **pki.server_env(mutual=True)})
    process.wait_health(credentials=pki.credentials(client_cert=True))
    yield process
    process.close()
