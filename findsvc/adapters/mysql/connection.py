"""One PyMySQL connection within a call's budget: its arguments, connecting, and one query."""

from __future__ import annotations

import ssl
from typing import Any

import pymysql
import pymysql.cursors

from findsvc.adapters.mysql.errors import is_charset_error, schema_mismatch
from findsvc.adapters.mysql.pool import ConnectionStillGood
from findsvc.adapters.mysql.resolver import Resolver
from findsvc.adapters.mysql.target import MySqlTarget
from findsvc.domain import deadline


def connect_args(
    target: MySqlTarget, tls: ssl.SSLContext | None, connect_timeout_s: float, io_timeout_s: float
) -> dict[str, Any]:
    """PyMySQL's arguments for `target`; the password is added at each connect."""
    # `ssl_disabled`: PyMySQL would otherwise try TLS unverified when the server offers it.
    tls_args = {"ssl": tls} if tls is not None else {"ssl_disabled": True}
    return {
        "host": target.host,
        "port": target.port,
        "user": target.user,
        "database": target.database,
        "charset": "utf8mb4",
        "connect_timeout": connect_timeout_s,
        "read_timeout": io_timeout_s,
        "write_timeout": io_timeout_s,
        "autocommit": True,  # each read sees the AddService's latest commit
        **tls_args,
    }


def binlog_connect_args(
    target: MySqlTarget, tls: ssl.SSLContext | None, connect_timeout_s: float, max_lag_s: float
) -> dict[str, Any]:
    """For the binlog follower's connections and its start-up check. A dump silent for twice
    the max lag (four heartbeats) is taken as dead."""
    return connect_args(target, tls, connect_timeout_s, 2 * max_lag_s)


def connect_within_budget(
    args: dict[str, Any], password: bytes, resolver: Resolver
) -> pymysql.connections.Connection[Any]:
    # Called inside the call's budget: connecting spends it too. The connect timeout
    # covers the handshake's reads and writes as well.
    timeout = min(args["connect_timeout"], seconds_left())
    conn = pymysql.connect(
        **{
            **args,
            "password": password,
            "connect_timeout": timeout,
            "read_timeout": timeout,
            "write_timeout": timeout,
            "defer_connect": True,
        }
    )
    # The host name is resolved within the budget too (resolver.py).
    conn.connect(resolver.connect(args["host"], args["port"], timeout))
    return conn


class SchemaMismatch(ConnectionStillGood):
    def __init__(self, missing: str) -> None:
        super().__init__(missing)
        self.missing = missing


def execute(
    cursor: pymysql.cursors.Cursor, sql: str, args: tuple[Any, ...]
) -> list[tuple[Any, ...]] | None:
    """The rows, or None when the table's charset cannot hold a name asked for; raises
    SchemaMismatch when the table lacks what the query reads. The server answered these
    with an error and the connection is fine: it goes back to the pool."""
    try:
        cursor.execute(sql, args)
    except pymysql.err.MySQLError as error:
        if is_charset_error(error):
            return None
        missing = schema_mismatch(error)
        if missing is not None:
            raise SchemaMismatch(missing) from None
        raise
    return list(cursor.fetchall())


def seconds_left() -> float:
    # PyMySQL takes no zero timeout; a spent budget then fails on its first wait.
    budget = deadline.current()
    return max(0.001, budget.remaining_s()) if budget is not None else 0.001


def limit_socket_waits(conn: pymysql.connections.Connection[Any], seconds: float) -> None:
    # PyMySQL applies these before its next socket read or write. Its public timeouts are
    # fixed at connect, but a pooled connection serves calls with different budgets.
    conn._read_timeout = seconds  # type: ignore[attr-defined]
    conn._write_timeout = seconds  # type: ignore[attr-defined]
