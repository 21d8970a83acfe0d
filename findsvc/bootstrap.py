"""The composition root: the one place that turns Settings into wired adapters."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from findsvc.adapters.mysql.pool import PoolObserver
from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.adapters.mysql.target import MySqlTarget, tls_context
from findsvc.adapters.sqlite import SqliteUserRepository
from findsvc.cache_setup import CacheMetrics, build_cache
from findsvc.config import ConfigError, Settings
from findsvc.domain.ports import CheckedRepository, RepositoryMisconfigured, RepositoryUnavailable
from findsvc.entrypoints.chain import call_chain
from findsvc.entrypoints.grpc_server import FindServer
from findsvc.policies.breaker import BreakerRepository, CircuitBreaker
from findsvc.policies.coalescing import CoalescingRepository

if TYPE_CHECKING:
    from findsvc.telemetry.telemetry import Telemetry

# Store failures in a row that open the circuit.
BREAKER_FAILURES = 3

# Where the embedded default keeps its file when no FINDSVC_DB_URL is given.
DEFAULT_SQLITE_PATH = Path("var/findsvc.db")


def build_repository(
    settings: Settings, pool_observer: PoolObserver | None = None
) -> BreakerRepository[MySqlUserRepository] | SqliteUserRepository:
    url = settings.db_url
    if url is None:
        return SqliteUserRepository(DEFAULT_SQLITE_PATH)
    if url.scheme == "sqlite":
        return SqliteUserRepository(Path(url.path))
    mysql = MySqlUserRepository(
        MySqlTarget(url.host, url.port, url.user, url.database),
        password=lambda: settings.db_password,
        pool_size=settings.db_pool_size,
        connect_timeout_s=settings.db_connect_timeout_s,
        query_timeout_s=settings.db_timeout_s,
        pool_observer=pool_observer,
        tls=db_tls_context(settings.db_tls, settings.db_tls_ca),
        max_idle_s=settings.db_max_idle_s,
    )
    # Each failed readiness check re-opens the circuit, so while checks run no caller pays for
    # a trial call; the trial is the fallback for when they do not.
    retry_after_s = settings.health_interval_s + settings.db_timeout_s + 1.0
    return BreakerRepository(mysql, CircuitBreaker(BREAKER_FAILURES, retry_after_s))


def db_tls_context(mode: str, ca: Path | None) -> ssl.SSLContext | None:
    """FINDSVC_DB_TLS and FINDSVC_DB_TLS_CA for PyMySQL. Raises ConfigError for a bad CA."""
    try:
        return tls_context(mode, ca)
    except (ssl.SSLError, OSError):
        raise ConfigError("FINDSVC_DB_TLS_CA: not a readable PEM CA certificate") from None


def build_serving_repository(
    settings: Settings,
    pool_observer: PoolObserver | None = None,
    cache_observer: CacheMetrics | None = None,
) -> CheckedRepository:
    """The repository `serve` uses: the store, coalesced under load, cached as configured.

    Coalescing starts when every pooled connection is busy: lookups arriving then queue and
    share the next query. So FINDSVC_DB_POOL_SIZE is also the number of queries in flight.
    """
    store = build_repository(settings, pool_observer)
    users: CheckedRepository = store
    if not isinstance(store, SqliteUserRepository):
        # The breaker forwards get_many (and any new method) through its __getattr__.
        users = CoalescingRepository(
            cast(CheckedRepository, store),
            max_in_flight=settings.db_pool_size,
            cap_s=settings.db_timeout_s,
        )
    # Outermost: a hit costs no lock of the layers below. Mode and follower: cache_setup.py.
    return build_cache(
        settings, users, db_tls_context(settings.db_tls, settings.db_tls_ca), cache_observer
    )


@dataclass(frozen=True)
class Service:
    """What `findsvc serve` runs in one process, wired and listening (not yet started)."""

    server: FindServer
    users: CheckedRepository
    telemetry: Telemetry

    def close(self) -> None:
        self.users.close()
        self.telemetry.close()


def check_store_client(users: CheckedRepository) -> None:
    """Raises ConfigError when our side of the store cannot work, whatever the store does.

    A store that is down is no reason to stop: readiness says NOT_SERVING until it is back.
    """
    try:
        users.ping()
    except RepositoryMisconfigured as error:
        users.close()
        raise ConfigError(f"cannot use the database: {error}") from None
    except RepositoryUnavailable:
        pass


def build_service(settings: Settings) -> Service:
    """Raises ConfigError, with one line for the operator, when a part cannot be set up."""
    # Imported here: prometheus-client picks its multiprocess mode when first imported, and
    # the supervisor sets PROMETHEUS_MULTIPROC_DIR only before it forks the children.
    from findsvc.telemetry.telemetry import Telemetry

    telemetry = Telemetry(settings)
    users = build_serving_repository(
        settings, pool_observer=telemetry.metrics, cache_observer=telemetry.metrics
    )
    check_store_client(users)
    try:
        server = FindServer(settings, users, call_chain(settings, telemetry))
    except RuntimeError:
        users.close()
        raise ConfigError(f"cannot listen on {settings.listen_address}") from None
    server.readiness.on_database_checked(telemetry.metrics.database_checked)
    if settings.processes == 1:  # several: the supervisor serves /metrics for all of them
        try:
            telemetry.start()
        except ConfigError:
            users.close()
            raise
    return Service(server, users, telemetry)
