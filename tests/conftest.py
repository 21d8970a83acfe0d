"""Fixtures shared by every layer: a real MySQL for integration and e2e tests, and the one
way a test starts a `findsvc serve`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest

from devkit.mariadb import PrivateMariaDB
from devkit.server import StartServer, serving
from findsvc.config import DatabaseUrl, parse_database_url
from tests.support.certs import make_pki
from tests.support.db import admin_connection


@pytest.fixture(scope="session")
def mysql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DatabaseUrl, Path]]:
    """(admin URL, CA of its TLS certificate): FINDSVC_TEST_MYSQL_URL and FINDSVC_TEST_MYSQL_CA
    when set, else a private mariadbd for this test run, with a certificate for 127.0.0.1."""
    given = os.environ.get("FINDSVC_TEST_MYSQL_URL")
    if given:
        yield parse_database_url(given), Path(os.environ.get("FINDSVC_TEST_MYSQL_CA", "/no/ca"))
        return
    pki = make_pki(tmp_path_factory.mktemp("mysql-pki"), "findsvc test DB CA")
    server = PrivateMariaDB([f"--ssl-cert={pki.server_cert}", f"--ssl-key={pki.server_key}"])
    server.start()
    try:
        yield parse_database_url(server.url), pki.ca
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def binlog_mysql_url() -> Iterator[DatabaseUrl]:
    """Admin URL of a private mariadbd writing a row-based binlog with full row metadata,
    for the binlog cache's tests: the other tests' server writes none."""
    server = PrivateMariaDB(binlog=True)
    server.start()
    try:
        yield parse_database_url(server.url)
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def mysql_server_url(mysql_server: tuple[DatabaseUrl, Path]) -> DatabaseUrl:
    return mysql_server[0]


@pytest.fixture(scope="session")
def mysql_server_ca(mysql_server: tuple[DatabaseUrl, Path]) -> Path:
    """Verifies the test MySQL's certificate, which names 127.0.0.1 and localhost."""
    return mysql_server[1]


@pytest.fixture
def mysql_url(mysql_server_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """A fresh, empty database of its own for each test: tests never see each other's rows."""
    url = replace(mysql_server_url, database=f"findsvc_test_{uuid.uuid4().hex[:12]}")
    try:
        yield url
    finally:
        with admin_connection(url) as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{url.database}`")


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """`start_server(env, ...)`: a server started with devkit's `serving` (healthy unless
    wait=False), killed when the test ends, or at once when it never turns healthy."""
    with ExitStack() as started:
        yield lambda env, *args, **options: started.enter_context(serving(env, *args, **options))
