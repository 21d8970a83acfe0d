"""TLS to MySQL: FINDSVC_DB_TLS and FINDSVC_DB_TLS_CA as an SSLContext for PyMySQL."""

from __future__ import annotations

import ssl
from pathlib import Path

from findsvc.config import ConfigError


def client_context(mode: str, ca: Path | None) -> ssl.SSLContext | None:
    """None for `off`. Without a CA file, the system's CAs verify the server."""
    if mode == "off":
        return None
    try:
        context = ssl.create_default_context(cafile=str(ca) if ca is not None else None)
    except (ssl.SSLError, OSError):
        raise ConfigError("FINDSVC_DB_TLS_CA: not a readable PEM CA certificate") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # Checking the name needs a verified certificate, so the order matters.
    context.check_hostname = mode == "verify-identity"
    if mode == "required":
        context.verify_mode = ssl.CERT_NONE  # encrypted, but anyone may answer: a MITM can
    return context
