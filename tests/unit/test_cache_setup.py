"""FINDSVC_CACHE_MODE where no database need be asked: off, ttl, and SQLite, which has no
binlog."""

from __future__ import annotations

from pathlib import Path

import pytest

from findsvc.cache_setup import build_cache
from findsvc.config import ConfigError, Settings, parse_database_url
from findsvc.policies.caching import CachingRepository
from tests.unit.fakes import FakeStore


def sqlite(tmp_path: Path, **settings: object) -> Settings:
    return Settings(db_url=parse_database_url(f"sqlite:///{tmp_path}/users.db"), **settings)  # type: ignore[arg-type]


class TestModes:
    def test_auto_on_sqlite_is_off(self, tmp_path: Path) -> None:
        store = FakeStore()
        assert build_cache(sqlite(tmp_path), store, None) is store

    def test_auto_on_sqlite_with_a_ttl_is_the_ttl_cache(self, tmp_path: Path) -> None:
        cache = build_cache(sqlite(tmp_path, cache_ttl_s=60.0), FakeStore(), None)
        assert isinstance(cache, CachingRepository)

    def test_binlog_on_sqlite_is_a_config_error(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="SQLite has no binlog"):
            build_cache(sqlite(tmp_path, cache_mode="binlog"), FakeStore(), None)

    def test_ttl_without_a_ttl_is_a_config_error(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="FINDSVC_CACHE_TTL_S > 0"):
            build_cache(sqlite(tmp_path, cache_mode="ttl"), FakeStore(), None)

    def test_off_is_off_whatever_the_ttl(self, tmp_path: Path) -> None:
        store = FakeStore()
        assert (
            build_cache(sqlite(tmp_path, cache_mode="off", cache_ttl_s=60.0), store, None) is store
        )


def with_replicas(**settings: object) -> Settings:
    """A MySQL primary and one replica, at names no resolver knows: they cannot be asked."""
    return Settings(
        db_url=parse_database_url("mysql://findsvc@primary.invalid:3306/glarimy"),
        db_replica_urls=(parse_database_url("mysql://findsvc@replica.invalid:3306/glarimy"),),
        **settings,  # type: ignore[arg-type]
    )


class TestWithReadReplicas:
    """The follower keeps the GTID position it applied, for misses read from replicas."""

    def test_binlog_asked_for_is_the_binlog_cache(self) -> None:
        cache = build_cache(with_replicas(cache_mode="binlog"), FakeStore(), None)
        try:
            assert isinstance(cache, CachingRepository)
        finally:
            cache.close()

    def test_auto_keeps_a_ttl_cache_while_the_database_cannot_be_asked(self) -> None:
        cache = build_cache(with_replicas(cache_ttl_s=60.0), FakeStore(), None)
        assert isinstance(cache, CachingRepository)
