"""The e2e tests' database and the servers most of them share, one per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devkit.envoy import EnvoyProcess
from devkit.server import ServerProcess, serving
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE
from tests.support.certs import Pki, make_pki
from tests.support.db import (
    admin_connection,
    database_of_its_own,
    insert_user,
    url_string,
)
from tests.support.rest import ready_envoy


@pytest.fixture(scope="module")
def users_db(mysql_server_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """The AddService's table with a known user and a corrupt row."""
    with database_of_its_own(mysql_server_url, "findsvc_e2e") as url:
        insert_user(url, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
        insert_user(url, "BrokenPhone1", 12345, KRISHNA_SINCE)
        yield url


@pytest.fixture(scope="module")
def users_db_url(users_db: DatabaseUrl) -> str:
    return url_string(users_db)


@pytest.fixture(scope="module")
def server(users_db_url: str) -> Iterator[ServerProcess]:
    with serving({"FINDSVC_DB_URL": users_db_url}) as process:
        yield process


@pytest.fixture(scope="module")
def envoy(server: ServerProcess) -> Iterator[EnvoyProcess]:
    """Envoy's REST gateway in front of `server`, ready (a module may put its own in place)."""
    with ready_envoy(server) as envoy:
        yield envoy


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_server(users_db_url: str, pki: Pki) -> Iterator[ServerProcess]:
    """Serves TLS only, with a certificate from `pki`'s CA."""
    env = {"FINDSVC_DB_URL": users_db_url, **pki.server_env()}
    with serving(env, credentials=pki.credentials()) as process:
        yield process


@pytest.fixture(scope="module")
def mtls_server(users_db_url: str, pki: Pki) -> Iterator[ServerProcess]:
    """Serves mutual TLS only: clients show a certificate from `pki`'s CA."""
    env = {"FINDSVC_DB_URL": users_db_url, **pki.server_env(mutual=True)}
    with serving(env, credentials=pki.credentials(client_cert=True)) as process:
        yield process


@pytest.fixture(scope="module")
def binlog_db(binlog_mysql_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """The AddService's table, empty, on the MariaDB that writes a row-based binlog."""
    with database_of_its_own(binlog_mysql_url, "findsvc_binlog_e2e") as url:
        yield url


@pytest.fixture
def sql(binlog_db: DatabaseUrl) -> Iterator[Any]:
    """A cursor on `binlog_db`, writing as the AddService does."""
    with admin_connection(binlog_db, binlog_db.database) as conn, conn.cursor() as cursor:
        yield cursor
