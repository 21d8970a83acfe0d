"""The SQL an operator runs to give findsvc its own read-only MySQL account."""

from __future__ import annotations

import unicodedata

# Printed instead of a password: unquoted, so the statement fails until it is replaced.
PASSWORD_PLACEHOLDER = "<PASSWORD>"  # noqa: S105 - a placeholder, not a password
TABLE = "ums_users"


class BadGrant(ValueError):
    """A user, host or database name that cannot be used: the message is one line."""


def _literal(value: str, what: str) -> str:
    # Only a doubled ' means the same under every sql_mode: a backslash escapes under the
    # default mode but is a plain character under NO_BACKSLASH_ESCAPES, so it is refused.
    if not value or any(unicodedata.category(ch) == "Cc" or ch == "\\" for ch in value):
        raise BadGrant(f"{what} must be non-empty, without backslashes or control characters")
    return "'" + value.replace("'", "''") + "'"


def _identifier(value: str, what: str) -> str:
    if not value or any(unicodedata.category(ch) == "Cc" for ch in value):
        raise BadGrant(f"{what} must be non-empty and free of control characters")
    return "`" + value.replace("`", "``") + "`"


# What the binlog cache's follower needs beyond SELECT: to read the binlog and its position.
BINLOG_PRIVILEGES = {
    "mariadb": "REPLICATION SLAVE, BINLOG MONITOR",
    "mysql": "REPLICATION SLAVE, REPLICATION CLIENT",
}


def read_only_account_sql(
    user: str, host: str, database: str, password: str | None, binlog: str | None = None
) -> str:
    """CREATE USER, set its password, revoke what it had, GRANT SELECT on the users table;
    with `binlog` (mariadb or mysql), the grant the binlog cache's follower needs too."""
    account = f"{_literal(user, 'the user name')}@{_literal(host, 'the host')}"
    secret = _literal(password, "the password") if password is not None else PASSWORD_PLACEHOLDER
    table = f"{_identifier(database, 'the database')}.{_identifier(TABLE, 'the table')}"
    lines = [
        f"-- findsvc reads {TABLE} and needs SELECT on it, nothing else.",
        "-- Run this on the primary: it replicates, and read replicas need the same account.",
        "-- Replica lag is measured from GTID positions (MariaDB @@gtid_binlog_pos and",
        "-- MASTER_GTID_WAIT, MySQL @@gtid_executed and GTID_SUBSET), which need no grant.",
    ]
    if password is None:
        lines += [
            f"-- Replace {PASSWORD_PLACEHOLDER} with a quoted password from your secret store;",
            "-- as printed, the statements that set it are refused.",
        ]
    lines += [
        f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {secret};",
        f"ALTER USER {account} IDENTIFIED BY {secret};",
        "-- An existing account keeps nothing it had before.",
        f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account};",
        f"GRANT SELECT ON {table} TO {account};",
    ]
    if binlog is not None:
        lines += [
            "-- The binlog cache (FINDSVC_CACHE_MODE) follows the table's changes. The binlog",
            "-- holds every database's changes: this account may then read them all.",
            f"GRANT {BINLOG_PRIVILEGES[binlog]} ON *.* TO {account};",
        ]
    return "\n".join(lines) + "\n"
