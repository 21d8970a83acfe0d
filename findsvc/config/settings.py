"""The settings: each field is one setting, with its default, parser, expected value and help."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from findsvc.config import parsers as parse
from findsvc.config.database_url import DatabaseUrl
from findsvc.config.options import Option, options, setting


def up_to(most: int) -> str:
    return f"a whole number from 1 to {most}"


SECONDS = "seconds"
PORT = "a port from 0 to 65535"
PEM_FILE = "a readable PEM file"
ON_OR_OFF = "0 or 1"
REFUSED = "more get RESOURCE_EXHAUSTED"

MIN_READINESS_CHECK_S = 1.0


@dataclass(frozen=True)
class Settings:
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
    host: str = setting(
        "[::]", str, "a host or address", "address to listen on; [::] means every interface"
    )
    port: int = setting(50051, parse.port, PORT, "gRPC port (0 picks a free one)")
    log_level: str = setting("INFO", parse.log_level, "DEBUG, INFO, WARNING or ERROR", "log level")
    # Few threads: each extra one costs GIL hand-offs.
    workers: int = setting(
        4, parse.whole(256), up_to(256), "threads running calls", see="Performance"
    )
    max_concurrency: int = setting(
        64, parse.whole(10_000), up_to(10_000), f"FindService calls served at once; {REFUSED}"
    )
    # One a client connection with client-side health checking: about 77 KiB and a thread
    # each, connection included (tests/e2e/test_health_checking_clients.py measures it).
    max_health_watches: int = setting(
        512,
        parse.whole(4096),
        up_to(4096),
        "health Watch streams open at once, each on a thread of its own, a few at most on one "
        f"connection; {REFUSED}",
    )
    max_reflection_streams: int = setting(
        4,
        parse.whole(64),
        up_to(64),
        f"reflection streams open at once, each on a thread of its own; {REFUSED}",
    )
    max_message_bytes: int = setting(
        16384,
        parse.whole(4_194_304),
        up_to(4_194_304),
        "largest request accepted; a larger one gets RESOURCE_EXHAUSTED",
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
    drain_s: float = setting(
        5.0,
        parse.seconds,
        SECONDS,
        "after SIGTERM, keep serving this long while endpoints update",
        see="Signals and timeouts",
    )
    grace_s: float = setting(
        10.0, parse.seconds, SECONDS, "after the drain, let in-flight calls finish this long"
    )
    keepalive_time_s: float = setting(
        60.0, parse.seconds, SECONDS, "the server pings idle connections this often"
    )
    keepalive_timeout_s: float = setting(
        20.0, parse.seconds, SECONDS, "close a connection whose ping is not answered in this time"
    )
    max_connection_age_s: float = setting(
        300.0,
        parse.seconds,
        SECONDS,
        "close client connections (GOAWAY) after this long, so long-lived clients rebalance "
        "onto new pods",
        see="Load balancing: two Services",
    )
    max_connection_age_grace_s: float = setting(
        30.0, parse.seconds, SECONDS, "calls on a connection past its age get this long to finish"
    )
    tls_cert: Path | None = setting(
        None,
        parse.readable_file,
        PEM_FILE,
        "server certificate chain, leaf first: turns on TLS (with the key)",
        see="TLS and mutual TLS",
    )
    tls_key: Path | None = setting(None, parse.readable_file, PEM_FILE, "server private key")
    tls_client_ca: Path | None = setting(
        None, parse.readable_file, PEM_FILE, "CA for client certificates: turns on mutual TLS"
    )
    auth_tokens_file: Path | None = setting(
        None,
        parse.readable_file,
        "a readable file",
        "bearer tokens, one a line, each optionally followed by its caller's name: turns on "
        "token auth for FindService",
        see="Bearer tokens",
    )
    auth_jwks_file: Path | None = setting(
        None,
        parse.readable_file,
        "a readable JWKS (JSON) file",
        "keys of a JWT issuer (a cluster's /openid/v1/jwks), re-read when it changes: turns on "
        "JWT auth for FindService (RS256, ES256); the caller is the token's sub",
        see="JWTs: Kubernetes service-account tokens",
    )
    auth_jwks_url: str | None = setting(
        None,
        parse.https_url,
        "an https:// URL",
        "where the JWT issuer publishes its keys (a cluster's "
        "https://kubernetes.default.svc/openid/v1/jwks), fetched every 5 min in the background: "
        "turns on JWT auth for FindService",
        see="JWTs: Kubernetes service-account tokens",
    )
    auth_jwks_ca: Path | None = setting(
        None, parse.readable_file, PEM_FILE, "CA of the JWKS URL's server", unset="the system's CAs"
    )
    auth_jwks_token_file: Path | None = setting(
        None,
        parse.readable_file,
        "a readable file",
        "bearer token to show the JWKS URL (the pod's service-account token), read at each fetch",
    )
    auth_jwt_issuer: str | None = setting(
        None, parse.optional_text, "a URL or name", "the iss a JWT must have (with JWT keys)"
    )
    auth_jwt_audience: str | None = setting(
        None, parse.optional_text, "a name", "the aud a JWT must have (with JWT keys)"
    )
    auth_jwt_callers: tuple[str, ...] | None = setting(
        None,
        parse.name_list,
        "comma-separated JWT subjects",
        "the JWT callers the metrics name; others count as other",
        unset="the first 100 distinct subjects",
    )
    reflection: bool = setting(True, parse.switch, ON_OR_OFF, "serve gRPC server reflection")
    metrics_port: int = setting(
        9464, parse.port, PORT, "Prometheus /metrics port (0 picks a free one)", see="Metrics"
    )
    # Limits a client cannot push past (see docs/hardening.md).
    health_port: int | None = setting(
        None,
        parse.port,
        PORT,
        "plaintext port of its own serving health Check, for the kubelet's probes: a flood on "
        "the gRPC port cannot starve them (0 picks a free one)",
        unset="off: health on the gRPC port only",
    )
    max_connections: int = setting(
        1000,
        parse.whole(100_000),
        up_to(100_000),
        "open client connections to the gRPC port at most (about 20 KiB each while idle); "
        "more are closed as they arrive",
    )
    connection_idle_s: float = setting(
        120.0,
        parse.positive_seconds,
        "seconds > 0",
        "close a client connection (GOAWAY) that has had no call this long; the client "
        "reconnects at its next call",
    )
    processes: int = setting(
        1,
        parse.processes,
        f"{up_to(parse.MAX_PROCESSES)} or auto",
        "server processes sharing the port; auto: one per CPU this process may use (the "
        "affinity mask, capped by the cgroup CPU quota rounded up)",
        see="Performance",
    )
    cpu_pinning: bool = setting(
        False,
        parse.switch,
        ON_OR_OFF,
        "keep each server process to one CPU (the n-th process to the n-th CPU it may use)",
        see="Performance",
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
    # HTTP caching of FindUser's answer (docs/browsers.md): findsvc sends an ETag and this
    # as metadata, which Envoy passes on as headers. The default lets a cache keep the answer
    # but ask (If-None-Match) every time, so a change is seen at once.
    cache_control: str = setting(
        "private, max-age=0, must-revalidate",
        parse.header_value,
        "a Cache-Control header value",
        "Cache-Control of FindUser's answers (REST, Connect, gRPC-Web), beside their ETag",
        see="HTTP caching",
    )
    tracing: bool = setting(
        False,
        parse.switch,
        ON_OR_OFF,
        "OpenTelemetry tracing over OTLP (the otel extra)",
        see="Tracing (optional)",
    )
    access_log: str = setting(
        "errors",
        parse.access_log,
        "all, errors or off",
        "which calls get an access log line: all, those not ending OK (errors), or none (off)",
        see="Logs",
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

    @property
    def listen_address(self) -> str:
        return f"{self.host}:{self.port}"

    # Derived values: policy that follows from the settings above, stated once here.

    @property
    def breaker_retry_after_s(self) -> float:
        """How long an open circuit waits before one caller's call goes through as a trial.
        Each failed readiness check re-opens the circuit, so while checks run no caller pays
        for a trial call; the trial is the fallback for when they do not."""
        return self.health_interval_s + self.db_timeout_s + 1.0

    @property
    def db_queries_in_flight(self) -> int:
        """Queries at once, one per pooled connection; lookups arriving past it coalesce."""
        return self.db_pool_size

    @property
    def cache_lookup_threads(self) -> int:
        """The cache's threads for lookups it shares: one per call that can wait at once."""
        return self.workers

    @property
    def db_over_network(self) -> bool:
        """A database server (MySQL), not the embedded SQLite file."""
        return self.db_url is not None and self.db_url.scheme == "mysql"

    @property
    def readiness_check_s(self) -> float:
        """One readiness check's time budget. A database slower than the check interval is not
        ready, so the verdict comes in time; but a check gets a second at least, and no more
        than a call's DB work may take."""
        return min(max(MIN_READINESS_CHECK_S, self.health_interval_s), self.db_timeout_s)


# Every setting, in the order of the fields: for load(), the flags and the docs' Settings page.
OPTIONS: tuple[Option, ...] = options(Settings)
