"""FINDSVC_CACHE_MODE made real, for the composition root: which cache `serve` runs, chosen
once at start, said in the log and in a metric (docs/cache.md)."""

from __future__ import annotations

import logging
import math
import ssl
from collections.abc import Callable
from typing import NamedTuple, Protocol

from findsvc.adapters.mysql.binlog_check import ServerNotAsked, binlog_missing_at
from findsvc.adapters.mysql.binlog_follower import BinlogFollower, FollowerObserver
from findsvc.adapters.mysql.connection import binlog_connect_args
from findsvc.adapters.mysql.target import MySqlTarget
from findsvc.config import ConfigError, Settings
from findsvc.domain.ports import CheckedRepository
from findsvc.policies.cache_stats import CacheObserver
from findsvc.policies.caching import CachingRepository

log = logging.getLogger(__name__)


class Choice(NamedTuple):
    mode: str  # off, ttl or binlog
    why: str
    # binlog chosen before the binlog could be checked (auto, the database away at start):
    # the follower checks it at its first connect.
    unchecked: bool = False


class CacheMetrics(CacheObserver, FollowerObserver, Protocol):
    def cache_mode_chosen(self, mode: str) -> None: ...


def build_cache(
    settings: Settings,
    users: CheckedRepository,
    tls: ssl.SSLContext | None,
    observer: CacheMetrics | None = None,
    say: Callable[[str], None] | None = None,
) -> CheckedRepository:
    """`users`, cached as FINDSVC_CACHE_MODE says. Raises ConfigError, with one line saying
    what is missing, when the mode asked for cannot work here. The choice is logged once, or
    handed to `say` (the composition root logs it when the server is up: a start that fails
    later on a config error is one line, not a cache line before it)."""
    url = settings.db_url
    follower: BinlogFollower | None = None
    if url is not None and url.scheme == "mysql":
        args = binlog_connect_args(
            MySqlTarget(url.host, url.port, url.user, url.database),
            tls,
            settings.db_connect_timeout_s,
            settings.cache_max_lag_s,
        )
        follower = BinlogFollower(
            args,
            _password(settings),
            settings.cache_max_lag_s,
            observer=observer,
            # A fill read from a replica must read after the changes the follower told.
            track_gtids=bool(settings.db_replica_urls),
        )
    mode, why, unchecked = _choose(settings, follower)
    (say or log.info)(f"cache: {mode} ({why})")
    if follower is not None and unchecked:

        def binlog_unusable(missing: str) -> None:
            log.info(f"cache: off (auto: {missing})")
            if observer is not None:
                observer.cache_mode_chosen("off")

        follower.check_first(binlog_unusable)
    if observer is not None:
        observer.cache_mode_chosen(mode)
    if mode == "off":
        return users
    followed = mode == "binlog"
    cache = CachingRepository(
        users,
        math.inf if followed else settings.cache_ttl_s,
        settings.cache_size,
        math.inf if followed else settings.cache_negative_ttl_s,
        observer=observer,
        cap_s=settings.db_timeout_s,
        follow=follower if followed else None,
    )
    if followed:
        assert follower is not None
        follower.start(cache)
    return cache


def _choose(settings: Settings, follower: BinlogFollower | None) -> Choice:
    asked = settings.cache_mode
    if asked == "off":
        return Choice("off", "FINDSVC_CACHE_MODE=off")
    if asked == "ttl":
        if settings.cache_ttl_s <= 0:
            raise ConfigError("FINDSVC_CACHE_MODE=ttl needs FINDSVC_CACHE_TTL_S > 0")
        return Choice("ttl", "FINDSVC_CACHE_MODE=ttl")
    # What auto falls back to without the binlog.
    other, other_why = (
        ("ttl", "; FINDSVC_CACHE_TTL_S > 0") if settings.cache_ttl_s > 0 else ("off", "")
    )
    if follower is None:
        if asked == "binlog":
            raise ConfigError(
                "FINDSVC_CACHE_MODE=binlog needs MySQL or MariaDB (FINDSVC_DB_URL=mysql://...):"
                " SQLite has no binlog"
            )
        return Choice(other, f"auto: SQLite has no binlog{other_why}")
    try:
        missing = binlog_missing_at(follower.connect_args, follower.password())
    except ServerNotAsked:
        # Why is the database's own log line; said here again, a failure would be said twice.
        if asked == "binlog":
            return Choice("binlog", "the database could not be asked yet; following when it can")
        if other == "ttl":  # a cache that answers now, rather than one that may never
            return Choice(other, f"auto: the database could not be asked at start{other_why}")
        # Until the binlog is checked the follower follows nothing and the cache answers
        # nothing: every lookup goes to the database, as with the cache off.
        return Choice(
            "binlog",
            "auto: the database could not be asked at start; checking its binlog once it can"
            " be reached",
            unchecked=True,
        )
    if missing is None:
        why = f"{asked}: the binlog is row-based, full, and the account may read it"
        if settings.db_replica_urls:
            why += "; misses read from replicas only once they have applied what it told"
        return Choice("binlog", why)
    if asked == "binlog":
        raise ConfigError(f"FINDSVC_CACHE_MODE=binlog: {missing}")
    return Choice(other, f"auto: {missing}{other_why}")


def _password(settings: Settings) -> Callable[[], bytes]:
    # MySQL hashes the password's UTF-8 bytes; asked at each connect, as a Secret may rotate.
    return lambda: (settings.db_password or "").encode("utf-8")
