"""Settings: read once from the environment and CLI flags, validated, frozen.

Every setting has an env var FINDSVC_<NAME> and a flag --<name>; a flag wins.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from findsvc.cpu_budget import usable_cpus

# The exit code for bad configuration, whichever command meets it.
EXIT_CONFIG = 2


class ConfigError(Exception):
    """Bad configuration: the message is one line, safe to print."""


@dataclass(frozen=True)
class DatabaseUrl:
    scheme: str  # "mysql" or "sqlite"
    path: str = ""  # sqlite
    host: str = ""
    port: int = 3306
    user: str = ""
    password: str | None = field(default=None, repr=False)
    database: str = ""

    @property
    def redacted(self) -> str:
        if self.scheme == "sqlite":
            return f"sqlite:///{self.path.lstrip('/')}" if self.path else "sqlite://"
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"


def parse_database_url(raw: str) -> DatabaseUrl:
    parts = urlsplit(raw)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc or not path:
            raise ConfigError("FINDSVC_DB_URL: a SQLite URL looks like sqlite:///path/to/file.db")
        return DatabaseUrl(scheme="sqlite", path=path)
    if parts.scheme != "mysql":
        raise ConfigError("FINDSVC_DB_URL: the scheme must be mysql:// or sqlite:///")
    if parts.query or parts.fragment:
        # Dropping an option such as ?ssl-mode=REQUIRED would quietly weaken the connection.
        raise ConfigError(
            "FINDSVC_DB_URL: options after ? are not supported; "
            "for TLS set FINDSVC_DB_TLS and FINDSVC_DB_TLS_CA"
        )
    try:
        port = 3306 if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ConfigError("FINDSVC_DB_URL: the port must be a number from 1 to 65535")
    database = parts.path.lstrip("/")
    if not parts.hostname or not parts.username or not database or "/" in database:
        raise ConfigError("FINDSVC_DB_URL: expected mysql://user[:password]@host[:port]/db")
    password = unquote(parts.password) if parts.password is not None else None
    return DatabaseUrl(
        scheme="mysql",
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        password=password,
        database=unquote(database),
    )


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError
    return value


class _OutOfRange(ValueError):
    """A value of the right kind, but too small or too large: the message says the bound."""


# gRPC takes durations (keepalive, connection age, deadlines) as milliseconds in a signed
# 32-bit int; one past it overflows into a traceback at start.
MAX_SECONDS = (2**31 - 1) // 1000

# A readiness check needs a pause between checks, or it queries in a busy loop.
MIN_HEALTH_INTERVAL_S = 0.1


def _seconds(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= MAX_SECONDS:  # also refuses nan and inf
        raise _OutOfRange(f"from 0 to {MAX_SECONDS}")
    return value


def _health_interval(raw: str) -> float:
    value = _seconds(raw)
    if value < MIN_HEALTH_INTERVAL_S:
        raise _OutOfRange(f"at least {MIN_HEALTH_INTERVAL_S}")
    return value


def _flag(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError
    return level


def _access_log(raw: str) -> str:
    choice = raw.strip().lower()
    if choice not in ("all", "errors", "off"):
        raise ValueError
    return choice


def _processes(raw: str) -> int:
    if raw.strip().lower() == "auto":
        return usable_cpus()
    return _positive_int(raw)


def _readable_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ValueError
    return path


def _optional_url(raw: str) -> DatabaseUrl | None:
    return parse_database_url(raw) if raw else None


def _positive_seconds(raw: str) -> float:
    # PyMySQL refuses a zero timeout, and a zero cap or idle time would fail every call.
    value = _seconds(raw)
    if value <= 0:
        raise _OutOfRange(f"above 0 and at most {MAX_SECONDS}")
    return value


# As MySQL's --ssl-mode names them: DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY.
DB_TLS_MODES = ("off", "required", "verify-ca", "verify-identity")


def _db_tls(raw: str) -> str:
    mode = raw.strip().lower()
    if mode not in DB_TLS_MODES:
        raise ValueError
    return mode


@dataclass(frozen=True)
class _Option:
    name: str
    parse: Callable[[str], Any]
    expects: str
    help: str


# The one table of settings: env var, flag, parser and doc come from here.
OPTIONS: tuple[_Option, ...] = (
    _Option(
        "db_url",
        _optional_url,
        "mysql://user[:password]@host[:port]/db or sqlite:///path",
        "the user database; unset means an embedded SQLite file",
    ),
    _Option(
        "db_password_file",
        _readable_file,
        "a readable file",
        "file holding the DB password (a Kubernetes Secret); overrides the URL's",
    ),
    _Option(
        "db_max_idle_s",
        _positive_seconds,
        "seconds > 0",
        "close a pooled DB connection idle this long (below wait_timeout and proxy timeouts)",
    ),
    _Option(
        "db_tls",
        _db_tls,
        "off, required, verify-ca or verify-identity",
        "TLS to MySQL: verify-identity checks the CA and the host name",
    ),
    _Option(
        "db_tls_ca",
        _readable_file,
        "a readable PEM file",
        "CA that signed the MySQL server's certificate (default: the system's CAs)",
    ),
    _Option("host", str, "a host or address", "address to listen on (all interfaces)"),
    _Option("port", _port, "a port from 0 to 65535", "gRPC port (0 picks a free one)"),
    _Option("log_level", _log_level, "DEBUG, INFO, WARNING or ERROR", "log level"),
    _Option("workers", _positive_int, "a whole number >= 1", "gRPC worker threads"),
    _Option(
        "max_concurrency",
        _positive_int,
        "a whole number >= 1",
        "calls served at once; more get RESOURCE_EXHAUSTED",
    ),
    _Option(
        "max_health_watches",
        _positive_int,
        "a whole number >= 1",
        "health Watch streams open at once, each on a thread of its own; more are refused",
    ),
    _Option(
        "max_reflection_streams",
        _positive_int,
        "a whole number >= 1",
        "reflection streams open at once, each on a thread of its own; more are refused",
    ),
    _Option("max_message_bytes", _positive_int, "a whole number >= 1", "largest request accepted"),
    _Option(
        "db_pool_size",
        _positive_int,
        "a whole number >= 1",
        "open DB connections at most; lookups arriving while all are busy share one query",
    ),
    _Option("db_connect_timeout_s", _positive_seconds, "seconds > 0", "DB connect timeout"),
    _Option("db_timeout_s", _positive_seconds, "seconds > 0", "cap on one call's DB work"),
    _Option("health_interval_s", _health_interval, "seconds", "how often the DB is checked"),
    _Option(
        "drain_s",
        _seconds,
        "seconds",
        "after SIGTERM, keep serving this long while endpoints update",
    ),
    _Option("grace_s", _seconds, "seconds", "then let in-flight calls finish this long"),
    _Option("keepalive_time_s", _seconds, "seconds", "server keepalive ping interval"),
    _Option("keepalive_timeout_s", _seconds, "seconds", "keepalive ping ack timeout"),
    _Option(
        "max_connection_age_s",
        _seconds,
        "seconds",
        "close client connections after this long, so clients rebalance",
    ),
    _Option(
        "max_connection_age_grace_s",
        _seconds,
        "seconds",
        "grace for calls on a connection past its age",
    ),
    _Option("tls_cert", _readable_file, "a readable PEM file", "server certificate chain"),
    _Option("tls_key", _readable_file, "a readable PEM file", "server private key"),
    _Option(
        "tls_client_ca",
        _readable_file,
        "a readable PEM file",
        "CA for client certificates: turns on mutual TLS",
    ),
    _Option(
        "auth_tokens_file",
        _readable_file,
        "a readable file",
        "bearer tokens, one a line: turns on token auth for FindService",
    ),
    _Option("reflection", _flag, "0 or 1", "serve gRPC server reflection"),
    _Option("metrics_port", _port, "a port from 0 to 65535", "Prometheus /metrics port"),
    _Option(
        "processes", _processes, "a whole number >= 1 or auto", "server processes sharing the port"
    ),
    _Option("cpu_pinning", _flag, "0 or 1", "keep each server process to one CPU"),
    _Option("cache_ttl_s", _seconds, "seconds", "cache found users this long (0: off)"),
    _Option("cache_size", _positive_int, "a whole number >= 1", "cache entries at most"),
    _Option("cache_negative_ttl_s", _seconds, "seconds", "cache NOT_FOUND this long"),
    _Option("tracing", _flag, "0 or 1", "OpenTelemetry tracing over OTLP (the otel extra)"),
    _Option(
        "access_log",
        _access_log,
        "all, errors or off",
        "which calls get an access log line: every call, or those not ending OK",
    ),
)


@dataclass(frozen=True)
class Settings:
    db_url: DatabaseUrl | None = None
    db_password_file: Path | None = None
    db_max_idle_s: float = 180.0  # under MySQL's 8 h wait_timeout and cloud LBs' 4-6 min idle
    db_tls: str = "off"
    db_tls_ca: Path | None = None
    host: str = "[::]"
    port: int = 50051
    log_level: str = "INFO"
    workers: int = 4  # few threads: each extra one costs GIL hand-offs (README, Performance)
    max_concurrency: int = 64
    max_health_watches: int = 16
    max_reflection_streams: int = 4
    max_message_bytes: int = 16384
    db_pool_size: int = 2  # also the queries in flight before lookups coalesce (bootstrap)
    db_connect_timeout_s: float = 2.0
    db_timeout_s: float = 5.0
    health_interval_s: float = 2.0
    drain_s: float = 5.0
    grace_s: float = 10.0
    keepalive_time_s: float = 60.0
    keepalive_timeout_s: float = 20.0
    max_connection_age_s: float = 300.0
    max_connection_age_grace_s: float = 30.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    auth_tokens_file: Path | None = None
    reflection: bool = True
    metrics_port: int = 9464
    processes: int = 1
    cpu_pinning: bool = False
    cache_ttl_s: float = 0.0
    cache_size: int = 10000
    cache_negative_ttl_s: float = 0.0
    tracing: bool = False
    access_log: str = "errors"

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


def env_name(option_name: str) -> str:
    return "FINDSVC_" + option_name.upper()


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Adds a --flag for every setting; unset flags fall back to the environment."""
    for option in OPTIONS:
        parser.add_argument(
            "--" + option.name.replace("_", "-"),
            dest=option.name,
            default=None,
            metavar="VALUE",
            help=f"{option.help} [{env_name(option.name)}]",
        )


def load(environ: Mapping[str, str], flags: Mapping[str, str | None] | None = None) -> Settings:
    """Raises ConfigError naming the first bad setting."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        flag_value = (flags or {}).get(option.name)
        source = f"--{option.name.replace('_', '-')}" if flag_value is not None else None
        raw = flag_value if flag_value is not None else environ.get(env_name(option.name))
        if raw is None:
            continue
        source = source or env_name(option.name)
        try:
            values[option.name] = option.parse(raw.strip())
        except ConfigError as error:
            raise ConfigError(str(error).replace("FINDSVC_DB_URL", source)) from None
        except _OutOfRange as error:
            raise ConfigError(f"{source}: expected {option.expects} {error}") from None
        except ValueError:
            raise ConfigError(f"{source}: expected {option.expects}") from None
    settings = Settings(**values)
    _check_consistency(settings)
    return settings


def _check_consistency(settings: Settings) -> None:
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise ConfigError("FINDSVC_TLS_CERT and FINDSVC_TLS_KEY go together: set both or neither")
    if settings.tls_client_ca is not None and settings.tls_cert is None:
        raise ConfigError("FINDSVC_TLS_CLIENT_CA needs FINDSVC_TLS_CERT and FINDSVC_TLS_KEY")
    if settings.db_password_file is not None and (
        settings.db_url is None or settings.db_url.scheme != "mysql"
    ):
        raise ConfigError("FINDSVC_DB_PASSWORD_FILE needs a mysql:// FINDSVC_DB_URL")
    if settings.db_tls_ca is not None and settings.db_tls not in ("verify-ca", "verify-identity"):
        raise ConfigError("FINDSVC_DB_TLS_CA needs FINDSVC_DB_TLS=verify-ca or verify-identity")
