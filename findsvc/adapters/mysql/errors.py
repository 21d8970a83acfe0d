"""What a failure from PyMySQL means to findsvc, and the one line an operator reads about it."""

from __future__ import annotations

import re
import ssl

import pymysql

# This connection, or the server behind it, is gone: a fresh connection may work.
CONNECTION_ERRORS = (pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError)

# The name holds characters the column's character set cannot hold (a 4-byte character
# against a utf8mb3 or latin1 column: "illegal mix of collations" and friends). No stored
# name can equal it, so the answer is "not found"; the store itself is fine.
CHARSET_ERRORS = frozenset(
    {
        1253,  # COLLATION_CHARSET_MISMATCH
        1267,  # CANT_AGGREGATE_2COLLATIONS
        1270,  # CANT_AGGREGATE_3COLLATIONS
        1271,  # CANT_AGGREGATE_NCOLLATIONS
        1300,  # INVALID_CHARACTER_STRING
        1366,  # TRUNCATED_WRONG_VALUE_FOR_FIELD (incorrect string value)
    }
)

ACCESS_DENIED = 1045
SSL_CONNECTION_ERROR = 2026
TABLE_ACCESS_DENIED = (1044, 1142)


# The table or a column findsvc reads is gone (renamed, dropped, not yet migrated). The server
# answered: the connection is fine, and no retry or fresh connection will help.
BAD_FIELD = 1054
NO_SUCH_TABLE = 1146
READ_COLUMNS = ("name", "phone", "since")
_UNKNOWN_COLUMN = re.compile(r"Unknown column '(?:[^'.]*\.)?([^'.]*)'")


def schema_mismatch(error: BaseException) -> str | None:
    """What the table lacks, in words made here (only our own column names are quoted), or
    None when `error` is no schema mismatch."""
    code = error_code(error)
    if code == NO_SUCH_TABLE:
        return "the table ums_users does not exist"
    if code != BAD_FIELD:
        return None
    found = _UNKNOWN_COLUMN.search(str(error.args[1]) if len(error.args) > 1 else "")
    column = found.group(1) if found else None
    if column in READ_COLUMNS:
        return f"the table ums_users has no column {column}"
    return f"the table ums_users lacks a column findsvc reads ({', '.join(READ_COLUMNS)})"


def error_code(error: BaseException) -> int | None:
    code = error.args[0] if error.args else None
    return code if isinstance(code, int) and isinstance(error, pymysql.err.MySQLError) else None


def is_charset_error(error: BaseException) -> bool:
    return error_code(error) in CHARSET_ERRORS


def is_driver_error(error: BaseException) -> bool:
    """The driver or the network failed, as they may; anything else is a fault on our side."""
    return isinstance(error, (pymysql.err.MySQLError, OSError))


def describe(error: BaseException) -> str:
    """The error's class, MySQL number and likely meaning. Never the driver's message: it can
    quote SQL, data or (for a password that cannot be encoded) the password."""
    code = error_code(error)
    kind = f"{type(error).__name__}({code})" if code is not None else type(error).__name__
    hint = _hint(error, code)
    return f"{kind}: {hint}" if hint else kind


def _hint(error: BaseException, code: int | None) -> str | None:
    if _caused_by(error, ssl.SSLCertVerificationError):
        return "TLS certificate verification failed (FINDSVC_DB_TLS_CA, the server's name)"
    if code == SSL_CONNECTION_ERROR or _caused_by(error, ssl.SSLError):
        return "TLS to the database failed (FINDSVC_DB_TLS)"
    if code == ACCESS_DENIED:
        return (
            "the server refused the login: check the user, the password, and FINDSVC_DB_TLS"
            " (an account with REQUIRE SSL refuses a connection without TLS)"
        )
    if code in TABLE_ACCESS_DENIED:
        return "the account may not read ums_users (findsvc db grant prints the GRANT)"
    return None


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    # PyMySQL turns an OSError during connect into OperationalError(2003), keeping the
    # original as `original_exception`.
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        original = getattr(current, "original_exception", None)
        current = original or current.__cause__ or current.__context__
    return False
