"""The composition root: the one place that turns Settings into wired adapters."""

from __future__ import annotations

from pathlib import Path

from findsvc.adapters.breaker import BreakerRepository, CircuitBreaker
from findsvc.adapters.mysql import MySqlUserRepository
from findsvc.adapters.sqlite import SqliteUserRepository
from findsvc.config import Settings

# Store failures in a row that open the circuit, and how long it then stays open before a
# trial call (the readiness probe usually closes it sooner).
BREAKER_FAILURES = 3
BREAKER_RETRY_AFTER_S = 5.0

# Where the embedded default keeps its file when no FINDSVC_DB_URL is given.
DEFAULT_SQLITE_PATH = Path("var/findsvc.db")


def build_repository(
    settings: Settings,
) -> BreakerRepository[MySqlUserRepository] | SqliteUserRepository:
    url = settings.db_url
    if url is None:
        return SqliteUserRepository(DEFAULT_SQLITE_PATH)
    if url.scheme == "sqlite":
        return SqliteUserRepository(Path(url.path))
    mysql = MySqlUserRepository(
        url,
        password=settings.db_password,
        pool_size=settings.db_pool_size,
        connect_timeout_s=settings.db_connect_timeout_s,
        query_timeout_s=settings.db_timeout_s,
    )
    return BreakerRepository(mysql, CircuitBreaker(BREAKER_FAILURES, BREAKER_RETRY_AFTER_S))
