"""FINDSVC_DB_URL: a MySQL or SQLite URL, parsed once, with a repr that hides the password."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from findsvc.config.errors import ConfigError


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
