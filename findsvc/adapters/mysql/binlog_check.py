"""Whether the server's binlog and the account let the binlog cache work, and if not, the one
line that says what is missing and how to fix it."""

from __future__ import annotations

from typing import Any

import pymysql

from findsvc.adapters.mysql.binlog_position import read_position
from findsvc.adapters.mysql.errors import describe, error_code

UNKNOWN_VARIABLE = 1193
SPECIFIC_ACCESS_DENIED = (1227, 1045)  # also 1045 on some managed services
FIX = "see docs/cache.md"


class ServerNotAsked(Exception):
    """The server could not be reached to ask: no answer either way."""


def binlog_missing_at(connect_args: dict[str, Any], password: bytes) -> str | None:
    """`binlog_missing` on a connection of its own; raises ServerNotAsked."""
    try:
        with pymysql.connect(**connect_args, password=password) as conn:
            return binlog_missing(conn)
    except (pymysql.err.MySQLError, OSError) as error:
        raise ServerNotAsked(describe(error)) from None


def binlog_missing(conn: pymysql.connections.Connection[Any]) -> str | None:
    """None when the follower can work on this server with this account."""
    with conn.cursor() as cursor:
        # The global values: those the AddService's sessions start with.
        cursor.execute("SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image")
        log_bin, binlog_format, row_image = cursor.fetchone() or (0, "", "")
        try:
            cursor.execute("SELECT @@GLOBAL.binlog_row_metadata")
            (row_metadata,) = cursor.fetchone() or ("",)
        except pymysql.err.OperationalError as error:
            if error_code(error) != UNKNOWN_VARIABLE:
                raise
            row_metadata = None
        if not int(log_bin):
            return f"the server writes no binlog: start it with log_bin ({FIX})"
        if str(binlog_format).upper() != "ROW":
            return _set("binlog_format", binlog_format, "ROW")
        if str(row_image).upper() != "FULL":
            return _set("binlog_row_image", row_image, "FULL")
        if row_metadata is None:
            return "the server has no binlog_row_metadata: MariaDB 10.5 or MySQL 8.0.14 at least"
        if str(row_metadata).upper() != "FULL":
            return _set("binlog_row_metadata", row_metadata, "FULL")
    return _grant_missing(conn)


def _grant_missing(conn: pymysql.connections.Connection[Any]) -> str | None:
    lacking = "the account may not {}: findsvc db grant USER --binlog mariadb (or mysql) prints it"
    try:
        read_position(conn)
    except pymysql.err.MySQLError as error:
        if error_code(error) in SPECIFIC_ACCESS_DENIED:
            return lacking.format("read the binlog position (BINLOG MONITOR or REPLICATION CLIENT)")
        raise
    with conn.cursor() as cursor:
        cursor.execute("SHOW GRANTS")
        grants = " ".join(str(row[0]) for row in cursor.fetchall()).upper()
    if not any(
        privilege in grants
        for privilege in ("ALL PRIVILEGES ON *.*", "REPLICATION SLAVE", "REPLICATION REPLICA")
    ):
        return lacking.format("read the binlog (REPLICATION SLAVE)")
    return None


def _set(variable: str, value: object, wanted: str) -> str:
    return f"{variable} is {value}, not {wanted}: SET GLOBAL {variable}={wanted} ({FIX})"
