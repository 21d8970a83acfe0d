"""Where the MySQL store is and how to reach it: plain values, made by the composition root."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MySqlTarget:
    """The password is not here: it is asked for at each connect, as a Secret may rotate."""

    host: str
    port: int
    user: str
    database: str


def tls_context(mode: str, ca: Path | None) -> ssl.SSLContext | None:
    """None for `off`. Without a CA file, the system's CAs verify the server.

    Raises ssl.SSLError or OSError when the CA file cannot be used.
    """
    if mode == "off":
        return None
    context = ssl.create_default_context(cafile=str(ca) if ca is not None else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # Checking the name needs a verified certificate, so the order matters.
    context.check_hostname = mode == "verify-identity"
    if mode == "required":
        context.verify_mode = ssl.CERT_NONE  # encrypted, but anyone may answer: a MITM can
    return context


def binlog_connect_args(
    target: MySqlTarget, tls: ssl.SSLContext | None, connect_timeout_s: float, max_lag_s: float
) -> dict[str, Any]:
    """For the binlog follower's connections and its start-up check; the password is added at
    each connect. A dump silent for twice the max lag (four heartbeats) is taken as dead."""
    return {
        "host": target.host,
        "port": target.port,
        "user": target.user,
        "database": target.database,
        "charset": "utf8mb4",
        "connect_timeout": connect_timeout_s,
        "read_timeout": 2 * max_lag_s,
        "write_timeout": 2 * max_lag_s,
        "autocommit": True,
        **({"ssl": tls} if tls is not None else {"ssl_disabled": True}),
    }
