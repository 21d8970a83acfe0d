"""What production MySQL does to findsvc: connections killed or left idle, utf8mb3 tables,
UTF-8 passwords, and accounts made with `findsvc db grant`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest

from findsvc import bootstrap
from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.config import DatabaseUrl, load
from findsvc.domain import deadline
from findsvc.domain.model import Name, User, UserNotFound
from findsvc.policies.breaker import BreakerRepository
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE, findsvc
from tests.support.db import ADDSERVICE_TABLE, admin_connection, create_database, insert_user

EIGHT_EMOJI = "\U0001f600" * 8


def our_connection_ids(url: DatabaseUrl) -> set[int]:
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
            (url.database,),
        )
        return {int(row[0]) for row in cursor.fetchall()}


def kill(url: DatabaseUrl, connection_ids: set[int]) -> None:
    with admin_connection(url) as conn, conn.cursor() as cursor:
        for connection_id in connection_ids:
            cursor.execute("KILL CONNECTION %s", (connection_id,))


def store(url: DatabaseUrl, **env: str) -> BreakerRepository[MySqlUserRepository]:
    """The MySQL store as `serve` builds it from settings, breaker included."""
    settings = load(
        {"FINDSVC_DB_URL": f"mysql://{url.user}@{url.host}:{url.port}/{url.database}"} | env
    )
    built = bootstrap.build_repository(settings)
    assert isinstance(built, BreakerRepository)
    return built


class TestConnectionsTheServerClosed:
    @pytest.fixture
    def full_pool(self, seeded: DatabaseUrl) -> Iterator[BreakerRepository[MySqlUserRepository]]:
        users = store(seeded, FINDSVC_DB_POOL_SIZE="8")
        # Eight at once, as calls would take them: the pool opens eight, then keeps them idle.
        with deadline.deadline_in(10.0), ExitStack() as stack:
            for _ in range(8):
                stack.enter_context(users.inner._pool.connection(5.0))
        assert users.inner._pool.idle == 8
        yield users
        users.close()

    def test_after_kill_connection_of_every_pooled_connection_no_call_fails(
        self, full_pool: BreakerRepository[MySqlUserRepository], seeded: DatabaseUrl
    ) -> None:
        killed = our_connection_ids(seeded)
        assert len(killed) == 8
        kill(seeded, killed)
        for _ in range(6):
            assert full_pool.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE
        assert not full_pool.breaker.is_open
        assert our_connection_ids(seeded).isdisjoint(killed)

    def test_readiness_checks_are_not_fooled_by_killed_connections(
        self, full_pool: BreakerRepository[MySqlUserRepository], seeded: DatabaseUrl
    ) -> None:
        kill(seeded, our_connection_ids(seeded))
        for _ in range(3):
            full_pool.ping()  # raises if the store is reported unavailable
        assert not full_pool.breaker.is_open

    def test_a_connection_idle_past_the_max_idle_time_is_closed_not_reused(
        self, seeded: DatabaseUrl
    ) -> None:
        users = store(seeded, FINDSVC_DB_MAX_IDLE_S="0.5")
        try:
            users.get(Name("KrishnaMohan"))
            first = our_connection_ids(seeded)
            time.sleep(1.0)
            assert users.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE
            # The idle one was closed on our side too, not left for wait_timeout to reap.
            assert our_connection_ids(seeded).isdisjoint(first)
        finally:
            users.close()


class TestNamesTheTableCannotHold:
    @pytest.fixture
    def utf8mb3_users(
        self, mysql_url: DatabaseUrl
    ) -> Iterator[BreakerRepository[MySqlUserRepository]]:
        create_database(mysql_url, ADDSERVICE_TABLE.replace("utf8mb4", "utf8mb3"))
        insert_user(mysql_url, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
        users = store(mysql_url)
        yield users
        users.close()

    def test_a_name_of_eight_emoji_on_a_utf8mb3_table_is_not_found(
        self, utf8mb3_users: BreakerRepository[MySqlUserRepository]
    ) -> None:
        with pytest.raises(UserNotFound):
            utf8mb3_users.get(Name(EIGHT_EMOJI))

    def test_such_names_never_open_the_circuit_nor_cost_a_connection(
        self, utf8mb3_users: BreakerRepository[MySqlUserRepository], mysql_url: DatabaseUrl
    ) -> None:
        assert utf8mb3_users.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE
        connections = our_connection_ids(mysql_url)
        for _ in range(5):
            with pytest.raises(UserNotFound):
                utf8mb3_users.get(Name(EIGHT_EMOJI))
        assert not utf8mb3_users.breaker.is_open
        assert utf8mb3_users.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE
        assert our_connection_ids(mysql_url) == connections

    def test_in_a_batch_only_that_name_is_not_found(
        self, utf8mb3_users: BreakerRepository[MySqlUserRepository]
    ) -> None:
        lookups = utf8mb3_users.get_many([Name(EIGHT_EMOJI), Name("KrishnaMohan")])
        assert isinstance(lookups[0], UserNotFound)
        assert isinstance(lookups[1], User) and lookups[1].phone.value == KRISHNA_PHONE


def grant_sql(user: str, database: str, password_file: Path) -> list[str]:
    """`findsvc db grant`'s statements, as an operator would pipe them into mysql."""
    result = findsvc(
        "db", "grant", user, "--database", database, "--password-file", str(password_file)
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line and not line.startswith("--")]


def run_as_admin(url: DatabaseUrl, statements: list[str], sql_mode: str) -> None:
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = %s", (sql_mode,))
        for statement in statements:
            cursor.execute(statement)


class TestAccountsFromDbGrant:
    @pytest.fixture
    def account(self, seeded: DatabaseUrl) -> Iterator[str]:
        user = f"find{uuid.uuid4().hex[:8]}"
        yield user
        with admin_connection(seeded) as conn, conn.cursor() as cursor:
            cursor.execute("DROP USER IF EXISTS %s@'%%'", (user,))

    @pytest.mark.parametrize("sql_mode", ["", "NO_BACKSLASH_ESCAPES,ANSI_QUOTES"])
    def test_a_utf8_password_with_quotes_logs_in_under_any_sql_mode(
        self, seeded: DatabaseUrl, account: str, tmp_path: Path, sql_mode: str
    ) -> None:
        password_file = tmp_path / "password"
        password_file.write_text("Schlüssel-€-ä-it's\n", encoding="utf-8")
        run_as_admin(seeded, grant_sql(account, seeded.database, password_file), sql_mode)
        users = store(replace(seeded, user=account), FINDSVC_DB_PASSWORD_FILE=str(password_file))
        try:
            assert users.get(Name("KrishnaMohan")).phone.value == KRISHNA_PHONE
        finally:
            users.close()

    def test_an_existing_account_ends_with_select_on_ums_users_and_nothing_else(
        self, seeded: DatabaseUrl, account: str, tmp_path: Path
    ) -> None:
        with admin_connection(seeded) as conn, conn.cursor() as cursor:
            cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY 'old'", (account,))
            cursor.execute("GRANT SELECT ON *.* TO %s@'%%' WITH GRANT OPTION", (account,))
            cursor.execute(f"GRANT INSERT, DELETE ON `{seeded.database}`.* TO %s@'%%'", (account,))
        password_file = tmp_path / "password"
        password_file.write_text("new-secret\n")
        run_as_admin(seeded, grant_sql(account, seeded.database, password_file), "")
        with admin_connection(seeded) as conn, conn.cursor() as cursor:
            cursor.execute("SHOW GRANTS FOR %s@'%%'", (account,))
            grants = sorted(row[0] for row in cursor.fetchall())
        assert [grant.split(" IDENTIFIED BY")[0] for grant in grants] == [
            f"GRANT SELECT ON `{seeded.database}`.`ums_users` TO `{account}`@`%`",
            f"GRANT USAGE ON *.* TO `{account}`@`%`",
        ]
