"""What only the MySQL adapter does: pooling, healing dead connections, failing fast."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from devkit.mariadb import free_port
from findsvc import bootstrap
from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.config import DatabaseUrl, load
from findsvc.domain.model import Name
from findsvc.domain.ports import RepositoryTimeout, RepositoryUnavailable
from tests.support.calls import KRISHNA_PHONE
from tests.support.db import admin_connection, create_database, server_connections
from tests.support.load import wait_for


def our_connection_ids(url: DatabaseUrl) -> list[int]:
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
            (url.database,),
        )
        return [int(row[0]) for row in cursor.fetchall()]


def kill_our_connections(url: DatabaseUrl) -> int:
    ids = our_connection_ids(url)
    with admin_connection(url) as conn, conn.cursor() as cursor:
        for connection_id in ids:
            cursor.execute("KILL CONNECTION %s", (connection_id,))
    return len(ids)


class TestConnections:
    def test_connections_are_reused_not_opened_per_call(
        self, repo: MySqlUserRepository, seeded: DatabaseUrl
    ) -> None:
        repo.get(Name("KrishnaMohan"))
        before = server_connections(seeded)
        for _ in range(50):
            repo.get(Name("KrishnaMohan"))
        # The counter also counts server_connections' own connection.
        assert server_connections(seeded) - before <= 1

    def test_the_call_after_the_db_killed_our_connection_succeeds(
        self, repo: MySqlUserRepository, seeded: DatabaseUrl
    ) -> None:
        repo.get(Name("KrishnaMohan"))
        assert kill_our_connections(seeded) == 1
        assert repo.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE

    def test_a_connection_past_wait_timeout_is_replaced(
        self, repo: MySqlUserRepository, seeded: DatabaseUrl
    ) -> None:
        with admin_connection(seeded) as conn, conn.cursor() as cursor:
            cursor.execute("SET GLOBAL wait_timeout = 1")
        try:
            repo._pool.close()  # new connections pick up the short timeout
            repo.get(Name("KrishnaMohan"))
            wait_for(lambda: our_connection_ids(seeded) == [], 30)  # the server closed it
            assert repo.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE
        finally:
            with admin_connection(seeded) as conn, conn.cursor() as cursor:
                cursor.execute("SET GLOBAL wait_timeout = DEFAULT")


class TestPasswordRotation:
    def test_a_rotated_password_file_is_used_by_the_next_connection(
        self, seeded: DatabaseUrl, tmp_path: Path
    ) -> None:
        user = f"rot{uuid.uuid4().hex[:8]}"
        with admin_connection(seeded) as conn, conn.cursor() as cursor:
            cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY 'first-secret'", (user,))
            cursor.execute(f"GRANT SELECT ON `{seeded.database}`.* TO %s@'%%'", (user,))
        password_file = tmp_path / "password"
        password_file.write_text("first-secret\n")
        settings = load(
            {
                "FINDSVC_DB_URL": f"mysql://{user}@{seeded.host}:{seeded.port}/{seeded.database}",
                "FINDSVC_DB_PASSWORD_FILE": str(password_file),
            }
        )
        repo = bootstrap.build_repository(settings)
        try:
            assert repo.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE
            with admin_connection(seeded) as conn, conn.cursor() as cursor:
                cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY 'second-secret'", (user,))
            password_file.write_text("second-secret\n")
            kill_our_connections(seeded)
            assert repo.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE
        finally:
            repo.close()
            with admin_connection(seeded) as conn, conn.cursor() as cursor:
                cursor.execute("DROP USER %s@'%%'", (user,))


class TestUnreachableDatabase:
    def test_an_unreachable_database_is_reported_fast(self, mysql_url: DatabaseUrl) -> None:
        closed = replace(mysql_url, port=free_port())
        repo = MySqlUserRepository(closed, None, 2, 30.0, 30.0)
        started = time.monotonic()
        with pytest.raises(RepositoryUnavailable) as raised:
            repo.get(Name("KrishnaMohan"))
        assert not isinstance(raised.value, RepositoryTimeout)  # refused, not waited out
        assert time.monotonic() - started < 10  # far from the 30 s connect timeout and cap

    def test_wrong_credentials_are_unavailable_without_the_password_in_the_error(
        self, seeded: DatabaseUrl
    ) -> None:
        repo = MySqlUserRepository(replace(seeded, user="nobody"), "hunter2", 2, 2.0, 5.0)
        with pytest.raises(RepositoryUnavailable) as raised:
            repo.get(Name("KrishnaMohan"))
        assert "hunter2" not in str(raised.value)

    def test_a_missing_table_is_unavailable(self, mysql_url: DatabaseUrl) -> None:
        create_database(mysql_url, "CREATE TABLE other (id INT)")
        repo = MySqlUserRepository(mysql_url, None, 2, 2.0, 5.0)
        with pytest.raises(RepositoryUnavailable):
            repo.ping()


class TestSchema:
    def test_db_init_creates_the_table_as_hibernate_would(self, mysql_url: DatabaseUrl) -> None:
        MySqlUserRepository(mysql_url, None, 1, 2.0, 5.0).create_schema()
        with admin_connection(mysql_url) as conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT column_name, data_type, character_maximum_length, datetime_precision,"
                " column_key FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = 'ums_users' ORDER BY ordinal_position",
                (mysql_url.database,),
            )
            columns = [tuple(row) for row in cursor.fetchall()]
        assert columns == [
            ("id", "bigint", None, None, "PRI"),
            ("name", "varchar", 255, None, "UNI"),
            ("phone", "bigint", None, None, ""),
            ("since", "datetime", None, 6, ""),
        ]

    def test_db_init_twice_is_harmless(self, mysql_url: DatabaseUrl) -> None:
        repo = MySqlUserRepository(mysql_url, None, 1, 2.0, 5.0)
        repo.create_schema()
        repo.create_schema()
        repo.ping()
