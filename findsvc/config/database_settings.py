"""The database settings: where the users are, how findsvc reaches them, and the cache over them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from findsvc.config import parsers as parse
from findsvc.config.database_url import DatabaseUrl
from findsvc.config.options import setting
from findsvc.config.setting_kinds import PEM_FILE, SECONDS, up_to


@dataclass(frozen=True)
class DatabaseSettings:
    db_url: DatabaseUrl | None = setting(
        None,
        parse.optional_url,
        "mysql://user[:password]@host[:port]/db or sqlite:///path",
        "the user database; unset means an embedded SQLite file",
        unset="embedded SQLite var/findsvc.db",
        see="Pointing findsvc at MySQL",
    )
    db_password_file: Path | None = setting(
        None,
        parse.readable_file,
        "a readable file",
        "file holding the DB password (a Kubernetes Secret), read at each connect; "
        "overrides the URL's",
    )
    db_max_idle_s: float = setting(
        180.0,
        parse.positive_seconds,
        "seconds > 0",
        "close a pooled DB connection idle this long instead of reusing it; keep it below "
        "MySQL's wait_timeout (8 h) and any proxy's or load balancer's idle timeout",
    )
    db_tls: str = setting(
        "off",
        parse.db_tls,
        "off, required, verify-ca or verify-identity",
        "TLS to MySQL: required encrypts but checks no certificate, verify-ca checks the "
        "server's CA, verify-identity its CA and host name",
        see="Pointing findsvc at MySQL",
    )
    db_tls_ca: Path | None = setting(
        None,
        parse.readable_file,
        PEM_FILE,
        "CA that signed the MySQL server's certificate (verify-ca, verify-identity)",
        unset="the system's CAs",
    )
    # Read replicas (docs/replicas.md): lookups go to them, misses are confirmed on the primary.
    db_replica_urls: tuple[DatabaseUrl, ...] | None = setting(
        None,
        parse.replica_urls,
        "comma-separated mysql://user[:password]@host[:port]/db",
        "read replicas of FINDSVC_DB_URL: lookups go to them, a name they lack is asked of the "
        "primary; same TLS and password file as the primary unless a URL has a password",
        unset="every lookup goes to the primary",
    )
    db_replica_max_lag_s: float = setting(
        5.0,
        parse.positive_seconds,
        "seconds > 0",
        "a replica further behind its primary than this gets no reads until it catches up",
    )
    # Also the queries in flight before lookups coalesce (db_queries_in_flight).
    db_pool_size: int = setting(
        2,
        parse.whole(256),
        up_to(256),
        "open DB connections at most; lookups arriving while all are busy share one query",
        see="Performance",
    )
    db_connect_timeout_s: float = setting(
        2.0, parse.positive_seconds, "seconds > 0", "cap on opening one DB connection"
    )
    db_timeout_s: float = setting(
        5.0,
        parse.positive_seconds,
        "seconds > 0",
        "cap on one call's DB work, including the wait for a pooled connection or in the "
        "coalescing queue",
    )
    health_interval_s: float = setting(
        2.0,
        parse.health_interval,
        SECONDS,
        f"how often readiness checks the database ({parse.MIN_HEALTH_INTERVAL_S} at least)",
        see="Health",
    )
    cache_mode: str = setting(
        "auto",
        parse.cache_mode,
        "off, ttl, binlog or auto",
        "binlog: a cache kept exact by following the table in MySQL's binlog; ttl: entries "
        "live FINDSVC_CACHE_TTL_S; auto: binlog when the server's binlog and the account allow "
        "it, else ttl when FINDSVC_CACHE_TTL_S > 0, else off (docs/cache.md)",
    )
    cache_max_lag_s: float = setting(
        1.0,
        parse.positive_seconds,
        "seconds > 0",
        "binlog cache: answer nothing from memory while the binlog follower is further behind",
    )
    cache_ttl_s: float = setting(
        0.0, parse.seconds, SECONDS, "ttl cache: keep found users this long (0: off)"
    )
    cache_size: int = setting(
        10000, parse.whole(1_000_000), up_to(1_000_000), "cache entries at most (LRU)"
    )
    cache_negative_ttl_s: float = setting(
        0.0,
        parse.seconds,
        SECONDS,
        "cache NOT_FOUND this long: the AddService may add that name at any moment",
    )

    @property
    def db_password(self) -> str | None:
        """Read at each call: the MySQL adapter asks at every connect, so a rotated Secret
        file is picked up without a restart."""
        if self.db_password_file is not None:
            return self.db_password_file.read_text(encoding="utf-8").rstrip("\r\n")
        return self.db_url.password if self.db_url else None

    def replica_password(self, replica: DatabaseUrl) -> str | None:
        """The replica URL's own password, else the primary's (file or URL), read now."""
        return replica.password if replica.password is not None else self.db_password
