"""The settings: each field is one setting, with its default, parser, expected value and help."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from findsvc.config import parsers as parse
from findsvc.config.database_url import DatabaseUrl
from findsvc.config.options import Option, options, setting

WHOLE = "a whole number >= 1"
SECONDS = "seconds"
PORT = "a port from 0 to 65535"
PEM_FILE = "a readable PEM file"
ON_OR_OFF = "0 or 1"
REFUSED = "more get RESOURCE_EXHAUSTED"


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
    host: str = setting(
        "[::]", str, "a host or address", "address to listen on; [::] means every interface"
    )
    port: int = setting(50051, parse.port, PORT, "gRPC port (0 picks a free one)")
    log_level: str = setting("INFO", parse.log_level, "DEBUG, INFO, WARNING or ERROR", "log level")
    # Few threads: each extra one costs GIL hand-offs.
    workers: int = setting(4, parse.positive_int, WHOLE, "threads running calls", see="Performance")
    max_concurrency: int = setting(
        64, parse.positive_int, WHOLE, f"FindService calls served at once; {REFUSED}"
    )
    caller_max_concurrency: int | None = setting(
        None,
        parse.positive_int,
        WHOLE,
        f"FindService calls one caller may hold at once, even when the server has room; {REFUSED}",
        unset="no cap of its own: callers share a full server fairly",
    )
    # One a client connection with client-side health checking: about 77 KiB and a thread
    # each, connection included (tests/e2e/test_health_checking_clients.py measures it).
    max_health_watches: int = setting(
        512,
        parse.positive_int,
        WHOLE,
        "health Watch streams open at once, each on a thread of its own, a few at most on one "
        f"connection; {REFUSED}",
    )
    max_reflection_streams: int = setting(
        4,
        parse.positive_int,
        WHOLE,
        f"reflection streams open at once, each on a thread of its own; {REFUSED}",
    )
    max_message_bytes: int = setting(
        16384,
        parse.positive_int,
        WHOLE,
        "largest request accepted; a larger one gets RESOURCE_EXHAUSTED",
    )
    # Also the queries in flight before lookups coalesce (bootstrap).
    db_pool_size: int = setting(
        2,
        parse.positive_int,
        WHOLE,
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
    processes: int = setting(
        1,
        parse.processes,
        "a whole number >= 1 or auto",
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
    cache_ttl_s: float = setting(
        0.0, parse.seconds, SECONDS, "cache found users this long (0: off)"
    )
    cache_size: int = setting(10000, parse.positive_int, WHOLE, "cache entries at most (LRU)")
    cache_negative_ttl_s: float = setting(
        0.0,
        parse.seconds,
        SECONDS,
        "cache NOT_FOUND this long: the AddService may add that name at any moment",
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

    @property
    def listen_address(self) -> str:
        return f"{self.host}:{self.port}"


# Every setting, in the order of the fields: for load(), the flags and the docs' Settings page.
OPTIONS: tuple[Option, ...] = options(Settings)
