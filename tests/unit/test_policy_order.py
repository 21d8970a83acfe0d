"""The policies `serve` puts over the store, in their one order (bootstrap)."""

from __future__ import annotations

from typing import Any

import pytest

from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.adapters.sqlite import SqliteUserRepository
from findsvc.bootstrap import build_serving_repository
from findsvc.config import Settings, parse_database_url
from findsvc.policies.breaker import BreakerRepository
from findsvc.policies.caching import CachingRepository
from findsvc.policies.coalescing import CoalescingRepository

MYSQL = parse_database_url("mysql://findsvc@127.0.0.1:1/glarimy")  # never connected to


def layers(users: Any) -> list[type]:
    """Outermost first, down to the driver."""
    found = []
    while users is not None:
        found.append(type(users))
        users = getattr(users, "_inner", None) or getattr(users, "inner", None)
    return found


class TestOverADatabaseServer:
    def test_cache_then_coalescing_then_breaker_then_the_driver(self) -> None:
        users = build_serving_repository(Settings(db_url=MYSQL, cache_ttl_s=60))
        assert layers(users) == [
            CachingRepository,
            CoalescingRepository,
            BreakerRepository,
            MySqlUserRepository,
        ]
        users.close()

    def test_without_the_cache(self) -> None:
        users = build_serving_repository(Settings(db_url=MYSQL, cache_mode="off"))
        assert layers(users) == [CoalescingRepository, BreakerRepository, MySqlUserRepository]
        users.close()


class TestOverTheEmbeddedFile:
    @pytest.mark.parametrize(
        ("cache_ttl_s", "expected"),
        [(0, [SqliteUserRepository]), (60, [CachingRepository, SqliteUserRepository])],
        ids=["cache off", "cache on"],
    )
    def test_only_the_cache(self, tmp_path: Any, cache_ttl_s: float, expected: list[type]) -> None:
        url = parse_database_url(f"sqlite:///{tmp_path}/users.db")
        users = build_serving_repository(Settings(db_url=url, cache_ttl_s=cache_ttl_s))
        assert layers(users) == expected
        users.close()
