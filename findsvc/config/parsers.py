"""Value parsers: each turns one raw env var or flag value into a typed value.

A parser raises ValueError for a value of the wrong kind (load() then says what the setting
expects), OutOfRange for one of the right kind but past a bound (load() adds the bound), or
ConfigError with a message of its own (the database URL).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from findsvc.config.database_url import DatabaseUrl, parse_database_url
from findsvc.cpu_budget import usable_cpus


class OutOfRange(ValueError):
    """A value of the right kind, but too small or too large: the message says the bound."""


# gRPC takes durations (keepalive, connection age, deadlines) as milliseconds in a signed
# 32-bit int; one past it overflows into a traceback at start.
MAX_SECONDS = (2**31 - 1) // 1000

# A readiness check needs a pause between checks, or it queries in a busy loop.
MIN_HEALTH_INTERVAL_S = 0.1

# As MySQL's --ssl-mode names them: DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY.
DB_TLS_MODES = ("off", "required", "verify-ca", "verify-identity")


def positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError
    return value


def whole(most: int) -> Callable[[str], int]:
    """A whole number from 1 to `most` (the setting's description names both): every count
    has a ceiling, so no value overflows gRPC's 32-bit options or asks for millions of
    threads, connections or cache entries."""

    def parse(raw: str) -> int:
        value = positive_int(raw)
        if value > most:
            raise ValueError
        return value

    parse.__name__ = f"whole_up_to_{most}"
    return parse


def port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError
    return value


def seconds(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= MAX_SECONDS:  # also refuses nan and inf
        raise OutOfRange(f"from 0 to {MAX_SECONDS}")
    return value


def positive_seconds(raw: str) -> float:
    # PyMySQL refuses a zero timeout, and a zero cap or idle time would fail every call.
    value = seconds(raw)
    if value <= 0:
        raise OutOfRange(f"above 0 and at most {MAX_SECONDS}")
    return value


def health_interval(raw: str) -> float:
    value = seconds(raw)
    if value < MIN_HEALTH_INTERVAL_S:
        raise OutOfRange(f"at least {MIN_HEALTH_INTERVAL_S}")
    return value


def switch(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError


def log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError
    return level


def access_log(raw: str) -> str:
    choice = raw.strip().lower()
    if choice not in ("all", "errors", "off"):
        raise ValueError
    return choice


def cpu_pinning(raw: str) -> str:
    choice = raw.strip().lower()
    if choice == "auto":
        return choice
    return "on" if switch(choice) else "off"


def cache_mode(raw: str) -> str:
    choice = raw.strip().lower()
    if choice not in ("off", "ttl", "binlog", "auto"):
        raise ValueError
    return choice


def header_value(raw: str) -> str:
    """A value gRPC metadata (and so an HTTP header) can carry: printable ASCII, not empty."""
    value = raw.strip()
    if not value or not all(" " <= char <= "~" for char in value):
        raise ValueError
    return value


def db_tls(raw: str) -> str:
    mode = raw.strip().lower()
    if mode not in DB_TLS_MODES:
        raise ValueError
    return mode


MAX_PROCESSES = 256


def processes(raw: str) -> int:
    if raw.strip().lower() == "auto":
        return min(usable_cpus(), MAX_PROCESSES)
    return whole(MAX_PROCESSES)(raw)


def readable_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ValueError
    return path


def optional_url(raw: str) -> DatabaseUrl | None:
    return parse_database_url(raw) if raw else None


def optional_text(raw: str) -> str | None:
    """Free text such as a JWT issuer; empty means unset."""
    if len(raw) > 1024 or not raw.isprintable():
        raise ValueError
    return raw or None


def name_list(raw: str) -> tuple[str, ...] | None:
    """Comma-separated names, such as JWT subjects; empty means unset."""
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    if len(names) > 1000 or any(len(name) > 256 or not name.isprintable() for name in names):
        raise ValueError
    return names or None


def https_url(raw: str) -> str | None:
    """An https:// URL (keys fetched in clear could be anyone's); empty means unset."""
    if not raw:
        return None
    if not raw.startswith("https://") or len(raw) > 2048 or not raw.isprintable() or " " in raw:
        raise ValueError
    return raw


def replica_urls(raw: str) -> tuple[DatabaseUrl, ...] | None:
    """Comma-separated mysql:// URLs; an empty entry or another scheme is a ValueError."""
    if not raw:
        return None
    parts = [part.strip() for part in raw.split(",")]
    if not all(part.startswith("mysql://") for part in parts):
        raise ValueError
    return tuple(parse_database_url(part) for part in parts)
