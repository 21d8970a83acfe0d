"""The repository port on an embedded SQLite file: the zero-setup default."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from findsvc.adapters.batch import find_many
from findsvc.adapters.rows import user_from_row
from findsvc.domain.model import Name, User, UserNotFound
from findsvc.domain.ports import Lookup, RepositoryUnavailable

# NOCASE stands in for MySQL's default case-insensitive collation.
SCHEMA = """
CREATE TABLE IF NOT EXISTS ums_users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE COLLATE NOCASE,
  phone INTEGER NOT NULL,
  since TEXT
)
"""
FIND_BY_NAME = "SELECT name, phone, since FROM ums_users WHERE name = ? LIMIT 1"


class SqliteUserRepository:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        # sqlite3 connections belong to one thread; each worker keeps its own.
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None)
            self._local.conn = conn
        return conn

    def get(self, name: Name) -> User:
        rows = self._fetch_all(FIND_BY_NAME, (name.value,))
        if not rows:
            raise UserNotFound(name)
        stored_name, phone, since = rows[0]
        return user_from_row(stored_name, phone, _since(since))

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        return find_many(names, "sqlite", self._fetch_all, _since)

    def ping(self) -> None:
        self._fetch_all("SELECT 1 FROM ums_users LIMIT 1", ())

    def _fetch_all(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            return self._connection().execute(sql, args).fetchall()
        except sqlite3.Error:
            raise RepositoryUnavailable("database unavailable") from None

    def create_schema(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._connection().execute(SCHEMA)

    def add_all(self, users: Iterable[tuple[str, int, datetime]]) -> None:
        """For seeding and tests only: the AddService is the writer in production."""
        rows = [
            (name, phone, since.replace(tzinfo=None).isoformat()) for name, phone, since in users
        ]
        self._connection().executemany(
            "INSERT OR IGNORE INTO ums_users (name, phone, since) VALUES (?, ?, ?)", rows
        )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()


def _since(stored: Any) -> Any:
    """The stored text as a datetime; anything else is handed on as is, for user_from_row to
    call the row corrupt, as PyMySQL hands on a DATETIME it cannot read (the zero date)."""
    if not stored:
        return None
    try:
        return datetime.fromisoformat(stored)
    except (TypeError, ValueError):  # SQLite stores whatever it is given, in any column
        return stored
