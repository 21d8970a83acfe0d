"""The composition root: the one place that turns Settings into wired adapters."""

from __future__ import annotations

from pathlib import Path

from findsvc.adapters.mysql import MySqlUserRepository
from findsvc.adapters.pool import PoolObserver
from findsvc.adapters.sqlite import SqliteUserRepository
from findsvc.config import Settings

# Where the embedded default keeps its file when no FINDSVC_DB_URL is given.
DEFAULT_SQLITE_PATH = Path("var/findsvc.db")


def build_repository(
    settings: Settings, pool_observer: PoolObserver | None = None
) -> MySqlUserRepository | SqliteUserRepository:
    url = settings.db_url
    if url is None:
        return SqliteUserRepository(DEFAULT_SQLITE_PATH)
    if url.scheme == "sqlite":
        return SqliteUserRepository(Path(url.path))
    return MySqlUserRepository(
        url,
        password=settings.db_password,
        pool_size=settings.db_pool_size,
        connect_timeout_s=settings.db_connect_timeout_s,
        query_timeout_s=settings.db_timeout_s,
        pool_observer=pool_observer,
    )
