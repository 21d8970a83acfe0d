"""Raw SQL helpers: tests check what the adapters did, and set up rows, without them."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pymysql

from devkit.mariadb import PrivateMariaDB
from findsvc.config import DatabaseUrl, parse_database_url
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE

# The AddService's table as Hibernate lays it out (surrogate id first, DATETIME(6), a unique
# VARCHAR(255) name), grown by a later AddService release: columns findsvc must ignore, in
# an order it must not depend on.
ADDSERVICE_TABLE = """
CREATE TABLE ums_users (
  id BIGINT NOT NULL AUTO_INCREMENT,
  since DATETIME(6),
  email VARCHAR(255),
  phone BIGINT NOT NULL,
  name VARCHAR(255),
  PRIMARY KEY (id),
  CONSTRAINT UK_name UNIQUE (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
"""


def admin_connection(
    url: DatabaseUrl, database: str | None = None
) -> pymysql.connections.Connection[Any]:
    return pymysql.connect(
        host=url.host,
        port=url.port,
        user=url.user,
        password=url.password or "",
        database=database,
        autocommit=True,
    )


def url_string(url: DatabaseUrl) -> str:
    password = f":{url.password}" if url.password else ""
    return f"mysql://{url.user}{password}@{url.host}:{url.port}/{url.database}"


def create_database(url: DatabaseUrl, table_sql: str = ADDSERVICE_TABLE) -> None:
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{url.database}`")
        cursor.execute(f"USE `{url.database}`")
        cursor.execute(table_sql)


@contextmanager
def database_of_its_own(
    server: DatabaseUrl, prefix: str, table_sql: str = ADDSERVICE_TABLE
) -> Iterator[DatabaseUrl]:
    """A new database on `server`, named `prefix` and a random suffix, holding the table
    `table_sql` makes; dropped at the end."""
    url = replace(server, database=f"{prefix}_{uuid.uuid4().hex[:12]}")
    create_database(url, table_sql)
    try:
        yield url
    finally:
        with admin_connection(url) as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE `{url.database}`")


def global_status(url: DatabaseUrl, variable: str) -> int:
    """A counter of the server's SHOW GLOBAL STATUS, e.g. Connections or Aborted_connects."""
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE %s", (variable,))
        row = cursor.fetchone()
        assert row is not None
        return int(row[1])


def server_connections(url: DatabaseUrl) -> int:
    """The connections the server has accepted since it started."""
    return global_status(url, "Connections")


def insert_user(url: DatabaseUrl, name: str, phone: int, since: datetime | None) -> None:
    with admin_connection(url, url.database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ums_users (name, phone, since) VALUES (%s, %s, %s)", (name, phone, since)
        )


def grant_read_only_account(url: DatabaseUrl, user: str, password_file: Path) -> None:
    """Runs the SQL `findsvc db grant` prints for `user`, as an operator would."""
    granted = subprocess.run(
        [sys.executable, "-m", "findsvc", "db", "grant", user, "--database", url.database,
         "--password-file", str(password_file)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    with admin_connection(url) as conn, conn.cursor() as cursor:
        for statement in granted.stdout.split(";\n"):
            sql = "\n".join(x for x in statement.splitlines() if not x.startswith("--"))
            if sql.strip():
                cursor.execute(sql)


@contextmanager
def table_locked(url: DatabaseUrl) -> Iterator[None]:
    """Readers of ums_users wait until the block ends, as behind a long AddService migration."""
    with admin_connection(url, url.database) as conn, conn.cursor() as cursor:
        cursor.execute("LOCK TABLES ums_users WRITE")
        try:
            yield
        finally:
            cursor.execute("UNLOCK TABLES")


@contextmanager
def private_users_db() -> Iterator[tuple[PrivateMariaDB, DatabaseUrl]]:
    """A MariaDB of the test's own, which it may stop and start, with the AddService's table
    and the demo user; destroyed at the end."""
    mariadb = PrivateMariaDB()
    mariadb.start()
    try:
        url = replace(parse_database_url(mariadb.url), database="glarimy")
        create_database(url)
        insert_user(url, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
        yield mariadb, url
    finally:
        mariadb.destroy()
