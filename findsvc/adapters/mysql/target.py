"""Where the MySQL store is and how to reach it: plain values, made by the composition root."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path


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
