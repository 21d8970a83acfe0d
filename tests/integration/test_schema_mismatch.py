"""A table that no longer fits is a schema mismatch that names what is missing, read by the
health check too, and the connection that met it stays in the pool."""

from __future__ import annotations

import pytest

from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.config import DatabaseUrl
from findsvc.domain.model import Name
from findsvc.domain.ports import RepositorySchemaMismatch
from tests.support.calls import KRISHNA
from tests.support.db import admin_connection, server_connections


def rename_phone(url: DatabaseUrl) -> None:
    with admin_connection(url, url.database) as conn, conn.cursor() as cursor:
        cursor.execute("ALTER TABLE ums_users RENAME COLUMN phone TO phone_number")


class TestRenamedColumn:
    def test_the_health_check_reads_the_columns_and_names_the_missing_one(
        self, repo: MySqlUserRepository, seeded: DatabaseUrl
    ) -> None:
        repo.ping()
        rename_phone(seeded)
        with pytest.raises(
            RepositorySchemaMismatch, match=r"^the table ums_users has no column phone$"
        ):
            repo.ping()

    def test_lookups_fail_on_the_same_connection_without_throwing_the_pool_away(
        self, repo: MySqlUserRepository, seeded: DatabaseUrl
    ) -> None:
        repo.ping()  # one pooled connection
        rename_phone(seeded)
        before = server_connections(seeded)
        for _ in range(10):
            with pytest.raises(RepositorySchemaMismatch, match="no column phone"):
                repo.get(Name(KRISHNA))
        assert server_connections(seeded) - before == 1  # the admin connection that counted

    def test_a_missing_table_is_named(self, repo: MySqlUserRepository, seeded: DatabaseUrl) -> None:
        with admin_connection(seeded, seeded.database) as conn, conn.cursor() as cursor:
            cursor.execute("RENAME TABLE ums_users TO ums_users_old")
        with pytest.raises(RepositorySchemaMismatch, match="ums_users does not exist"):
            repo.get(Name(KRISHNA))
