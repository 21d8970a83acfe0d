"""The repository port on MySQL/MariaDB (or Vitess), through PyMySQL."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors

from findsvc.adapters.batch import find_many
from findsvc.adapters.pool import ConnectionPool, PoolExhausted, PoolObserver
from findsvc.adapters.rows import user_from_row
from findsvc.config import DatabaseUrl
from findsvc.domain import deadline
from findsvc.domain.model import Name, User, UserNotFound
from findsvc.domain.ports import Lookup, RepositoryTimeout, RepositoryUnavailable

log = logging.getLogger(__name__)

SCHEMA_SQL = Path(__file__).with_name("schema.sql")

# Explicit columns by name: the AddService owns the table and may add or reorder columns.
FIND_BY_NAME = "SELECT name, phone, since FROM ums_users WHERE name = %s LIMIT 1"

# "This connection or the server is gone": worth one retry on a fresh connection.
_CONNECTION_ERRORS = (pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError)


class MySqlUserRepository:
    def __init__(
        self,
        url: DatabaseUrl,
        password: str | Callable[[], str | None] | None,
        pool_size: int,
        connect_timeout_s: float,
        query_timeout_s: float,
        pool_observer: PoolObserver | None = None,
    ) -> None:
        self._connect_args: dict[str, Any] = {
            "host": url.host,
            "port": url.port,
            "user": url.user,
            "database": url.database,
            "charset": "utf8mb4",
            "connect_timeout": connect_timeout_s,
            "read_timeout": query_timeout_s,
            "write_timeout": query_timeout_s,
            "autocommit": True,  # each read sees the AddService's latest commit
            "cursorclass": pymysql.cursors.Cursor,
        }
        self._pool: ConnectionPool[pymysql.connections.Connection[Any]] = ConnectionPool(
            self._connect, pool_size, pool_observer
        )
        self._query_timeout_s = query_timeout_s
        # A callable is asked at every connect, so a rotated Secret file needs no restart.
        self._password = password

    def _connect(self) -> pymysql.connections.Connection[Any]:
        # Called inside _fetch_one's deadline scope: connecting spends the same budget. The
        # connect timeout covers the handshake too (PyMySQL reads it with the read timeout).
        timeout = min(self._connect_args["connect_timeout"], _seconds_left())
        return pymysql.connect(
            **{
                **self._connect_args,
                "password": self._current_password(),
                "connect_timeout": timeout,
                "read_timeout": timeout,
            }
        )

    def _current_password(self) -> str:
        password = self._password() if callable(self._password) else self._password
        return password or ""

    def get(self, name: Name) -> User:
        row = self._fetch_one(FIND_BY_NAME, (name.value,))
        if row is None:
            raise UserNotFound(name)
        return user_from_row(*row)

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        return find_many(names, "mysql", self._fetch_all)

    def ping(self) -> None:
        """Raises RepositoryUnavailable unless the table can be read."""
        self._fetch_one("SELECT 1 FROM ums_users LIMIT 1", ())

    def _fetch_one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        rows = self._fetch_all(sql, args)
        return rows[0] if rows else None

    def _fetch_all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        # The caller's deadline or our cap, whichever ends first, bounds the whole call:
        # the wait for a pooled connection, connecting, and every socket read and write.
        with deadline.deadline_in(self._query_timeout_s) as budget:
            return self._fetch_all_within(sql, args, budget)

    def _fetch_all_within(
        self, sql: str, args: tuple[Any, ...], budget: deadline.Deadline
    ) -> list[tuple[Any, ...]]:
        # A pooled connection may have died since its last use (server restart,
        # wait_timeout, KILL): one retry on a fresh connection hides that from callers.
        for attempt in (1, 2):
            reused = False
            try:
                with (
                    self._pool.connection(budget.remaining_s()) as (conn, reused),
                    conn.cursor() as cursor,
                ):
                    _limit_socket_waits(conn, _seconds_left())
                    cursor.execute(sql, args)
                    return list(cursor.fetchall())
            except PoolExhausted:
                raise _timeout(
                    "no database connection free in time", budget, in_store=False
                ) from None
            except (*_CONNECTION_ERRORS, pymysql.err.MySQLError) as error:
                if budget.expired:
                    # PyMySQL has closed the connection: a hung query's socket is not reused.
                    raise _timeout(
                        "database did not answer in time", budget, in_store=True
                    ) from None
                if attempt == 1 and reused and isinstance(error, _CONNECTION_ERRORS):
                    continue
                log.warning("database unavailable: %s", _describe(error))
                raise RepositoryUnavailable("database unavailable") from None
        raise AssertionError("unreachable")

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


def _describe(error: BaseException) -> str:
    """The MySQL error number and class only: driver messages can quote SQL or data."""
    code = error.args[0] if error.args and isinstance(error.args[0], int) else None
    return f"{type(error).__name__}({code})" if code is not None else type(error).__name__


def _seconds_left() -> float:
    # PyMySQL takes no zero timeout; a spent budget then fails on its first wait.
    budget = deadline.current()
    return max(0.001, budget.remaining_s()) if budget is not None else 0.001


def _limit_socket_waits(conn: pymysql.connections.Connection[Any], seconds: float) -> None:
    # PyMySQL applies these before its next socket read or write. Its public timeouts are
    # fixed at connect, but a pooled connection serves calls with different budgets.
    conn._read_timeout = seconds  # type: ignore[attr-defined]
    conn._write_timeout = seconds  # type: ignore[attr-defined]


def _timeout(message: str, budget: deadline.Deadline, in_store: bool) -> RepositoryTimeout:
    # A caller's short deadline, or a busy pool, says nothing about the database.
    blames_store = in_store and not budget.set_by_caller
    if blames_store:
        log.warning("database timeout: %s", message)
    return RepositoryTimeout(message, blames_store=blames_store)
