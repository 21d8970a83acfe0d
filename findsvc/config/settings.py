"""The settings: one frozen dataclass of every setting, made of one part per concern (each
field is one setting, with its default, parser, expected value and help), and the values that
follow from them."""

from __future__ import annotations

from dataclasses import dataclass

from findsvc.config.auth_settings import AuthSettings
from findsvc.config.database_settings import DatabaseSettings
from findsvc.config.options import Option, options
from findsvc.config.server_settings import ServerSettings

MIN_READINESS_CHECK_S = 1.0


# The fields come in the order of the parts, last base first: the server, auth, the database.
@dataclass(frozen=True)
class Settings(DatabaseSettings, AuthSettings, ServerSettings):
    # Derived values: policy that follows from the settings in the parts, stated once here.

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
