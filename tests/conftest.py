"""Fixtures shared by every layer: a real MySQL for integration and e2e tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from findsvc.config import DatabaseUrl, parse_database_url
from tests.support.db import admin_connection
from tests.support.mariadb import PrivateMariaDB


@pytest.fixture(scope="session")
def mysql_server_url() -> Iterator[DatabaseUrl]:
    """FINDSVC_TEST_MYSQL_URL when set, else a private mariadbd for this test run."""
    given = os.environ.get("FINDSVC_TEST_MYSQL_URL")
    if given:
        yield parse_database_url(given)
        return
    server = PrivateMariaDB()
    server.start()
    try:
        yield parse_database_url(server.url)
    finally:
        server.destroy()


@pytest.fixture
def mysql_url(mysql_server_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """A fresh, empty database of its own for each test: tests never see each other's rows."""
    url = replace(mysql_server_url, database=f"findsvc_test_{uuid.uuid4().hex[:12]}")
    try:
        yield url
    finally:
        with admin_connection(url) as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{url.database}`")
