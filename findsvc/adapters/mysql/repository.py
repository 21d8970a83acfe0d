"""The repository port on MySQL/MariaDB (or Vitess), through PyMySQL."""

from __future__ import annotations

import math
import ssl
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors

from findsvc.adapters.batch import find_many
from findsvc.adapters.mysql.connection import (
    SchemaMismatch,
    connect_args,
    connect_within_budget,
    execute,
    limit_socket_waits,
    seconds_left,
)
from findsvc.adapters.mysql.errors import CONNECTION_ERRORS, describe, is_driver_error
from findsvc.adapters.mysql.failure_log import FailureLog
from findsvc.adapters.mysql.pool import ConnectionPool, PoolExhausted, PoolObserver
from findsvc.adapters.mysql.resolver import NameNotResolved, Resolver
from findsvc.adapters.mysql.target import MySqlTarget
from findsvc.adapters.rows import duplicate, user_from_row
from findsvc.domain import deadline
from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.ports import (
    Lookup,
    RepositoryMisconfigured,
    RepositorySchemaMismatch,
    RepositoryTimeout,
    RepositoryUnavailable,
)

SCHEMA_SQL = Path(__file__).with_name("schema.sql")

# Explicit columns by name: the AddService owns the table and may add or reorder columns.
# Two rows, to tell a name stored twice (a table without the unique key) from one stored once.
FIND_BY_NAME = "SELECT name, phone, since FROM ums_users WHERE name = %s LIMIT 2"
# Readiness reads the columns the lookups read: a renamed column is an outage, not SERVING.
HEALTH_QUERY = "SELECT name, phone, since FROM ums_users LIMIT 1"


class _UnstorableName(Exception):
    """The table's character set cannot hold the name asked for: no row can match it."""


class MySqlUserRepository:
    def __init__(
        self,
        target: MySqlTarget,
        password: str | Callable[[], str | None] | None,
        pool_size: int,
        connect_timeout_s: float,
        query_timeout_s: float,
        pool_observer: PoolObserver | None = None,
        tls: ssl.SSLContext | None = None,
        max_idle_s: float = math.inf,
        role: str = "database",
    ) -> None:
        self._role = role  # in log lines: "database", or which replica
        self._connect_args: dict[str, Any] = {
            **connect_args(target, tls, connect_timeout_s, query_timeout_s),
            "cursorclass": pymysql.cursors.Cursor,
        }
        self._pool: ConnectionPool[pymysql.connections.Connection[Any]] = ConnectionPool(
            self._connect, pool_size, pool_observer, max_idle_s
        )
        self._resolver = Resolver()
        self._failures = FailureLog(role)  # logged when it starts and ends, not at every call
        self._query_timeout_s = query_timeout_s
        # A callable is asked at every connect, so a rotated Secret file needs no restart.
        self._password = password

    def _connect(self) -> pymysql.connections.Connection[Any]:
        return connect_within_budget(self._connect_args, self._current_password(), self._resolver)

    def _current_password(self) -> bytes:
        # MySQL hashes the password's UTF-8 bytes; PyMySQL would encode a str as Latin-1.
        password = self._password() if callable(self._password) else self._password
        return (password or "").encode("utf-8")

    def get(self, name: Name) -> User:
        try:
            rows = self._fetch_all(FIND_BY_NAME, (name.value,))
        except _UnstorableName:
            rows = []
        if not rows:
            raise UserNotFound(name)
        if len(rows) > 1:
            raise duplicate(rows[0][0])
        return user_from_row(*rows[0])

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        try:
            return find_many(names, "mysql", self._fetch_all)
        except _UnstorableName:
            # Some name cannot be stored in the table: one query each tells which.
            return [self._lookup(name) for name in names]

    def _lookup(self, name: Name) -> Lookup:
        try:
            return self.get(name)
        except (UserNotFound, CorruptUserRecord) as failure:
            return failure

    def ping(self) -> None:
        """Raises RepositoryUnavailable unless the table can be read."""
        self._fetch_all(HEALTH_QUERY, ())

    def select_value(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        """The first column of the first row (None for no row), within the call's budget:
        for the replication queries of `adapters.mysql.replicas`."""
        row = self._fetch_one(sql, args)
        return row[0] if row else None

    def _fetch_one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        rows = self._fetch_all(sql, args)
        return rows[0] if rows else None

    def _fetch_all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        # The call's budget (set at the edge, never above our cap) bounds the whole call: the
        # wait for a pooled connection, connecting, and every socket read and write.
        with deadline.current_or(self._query_timeout_s) as budget:
            return self._fetch_all_within(sql, args, budget)

    def _fetch_all_within(
        self, sql: str, args: tuple[Any, ...], budget: deadline.Deadline
    ) -> list[tuple[Any, ...]]:
        # A pooled connection may have died since its last use (server restart, failover,
        # wait_timeout, KILL). Then those opened before it are suspect too: the pool drops
        # them, and one retry on a fresh connection hides the death from callers.
        for attempt in (1, 2):
            reused = False
            try:
                with (
                    self._pool.connection(budget.remaining_s()) as (conn, reused),
                    conn.cursor() as cursor,
                ):
                    limit_socket_waits(conn, seconds_left())
                    rows = execute(cursor, sql, args)
                self._failures.succeeded()
                if rows is None:
                    raise _UnstorableName
                return rows
            except PoolExhausted:
                raise self._timeout(
                    "no database connection free in time", budget, in_store=False
                ) from None
            except _UnstorableName:
                raise
            except SchemaMismatch as mismatch:
                self._failures.failed(f"schema mismatch: {mismatch.missing}")
                raise RepositorySchemaMismatch(mismatch.missing) from None
            except Exception as error:  # noqa: BLE001 - any failure is UNAVAILABLE, see below
                if isinstance(error, NameNotResolved):  # the name, not the database
                    self._failures.failed(str(error))
                    raise RepositoryUnavailable("database host name did not resolve") from None
                if budget.expired:
                    # PyMySQL has closed the connection: a hung query's socket is not reused.
                    raise self._timeout(
                        "database did not answer in time", budget, in_store=True
                    ) from None
                if not is_driver_error(error):
                    # Not the database's doing (a password the driver cannot send, a missing
                    # RSA library...): still UNAVAILABLE to callers, and counted by the breaker.
                    self._failures.failed(describe(error))
                    raise RepositoryMisconfigured(f"client failed: {describe(error)}") from None
                if reused and isinstance(error, CONNECTION_ERRORS):
                    self._pool.invalidate()
                    if attempt == 1:
                        continue
                self._failures.failed(describe(error))
                raise RepositoryUnavailable("database unavailable") from None
        raise AssertionError("unreachable")

    def _timeout(
        self, message: str, budget: deadline.Deadline, in_store: bool
    ) -> RepositoryTimeout:
        # A caller's short deadline, or a busy pool, says nothing about the database.
        blames_store = in_store and not budget.set_by_caller
        if blames_store:
            self._failures.failed(f"timeout: {message}")
        return RepositoryTimeout(message, blames_store=blames_store)

    def create_schema(self) -> None:
        """Creates the database and the table as the AddService would, for dev and tests."""
        args = {**self._connect_args, "password": self._current_password(), "database": None}
        with pymysql.connect(**args) as conn, conn.cursor() as cursor:
            quoted = "`" + self._connect_args["database"].replace("`", "``") + "`"
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quoted}")
            cursor.execute(f"USE {quoted}")
            cursor.execute(SCHEMA_SQL.read_text(encoding="utf-8"))

    def add_all(self, users: Iterable[tuple[str, int, datetime]]) -> None:
        """For seeding and tests only: the AddService is the writer in production."""
        rows = [(name, phone, since.replace(tzinfo=None)) for name, phone, since in users]
        args = {**self._connect_args, "password": self._current_password()}
        with pymysql.connect(**args) as conn, conn.cursor() as cursor:
            cursor.executemany(
                "INSERT IGNORE INTO ums_users (name, phone, since) VALUES (%s, %s, %s)", rows
            )

    def close(self) -> None:
        self._pool.close()
        self._resolver.close()
