"""Part of the composition root: read replicas from the settings, with their health checks."""

from __future__ import annotations

from typing import Protocol

from findsvc.adapters.mysql.pool import PoolObserver
from findsvc.adapters.mysql.replicas import MySqlReplica, ReplicaMonitor, ReplicaObserver
from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.adapters.mysql.target import MySqlTarget, tls_context
from findsvc.config import Settings
from findsvc.config.database_url import DatabaseUrl
from findsvc.domain.ports import CheckedRepository
from findsvc.policies.coalescing import CoalescingRepository
from findsvc.policies.replica_reads import ReadObserver, ReplicaReads


class ReplicaMetrics(ReadObserver, ReplicaObserver, PoolObserver, Protocol):
    """What the replica reads report to (findsvc.telemetry.metrics.Metrics is one)."""


class _QueryTimes:
    """A replica pool's query times join the primary's; its connection counts do not, as the
    pool gauges describe the primary's pool."""

    def __init__(self, observer: PoolObserver) -> None:
        self._observer = observer

    def connections_changed(self, in_use: int, idle: int) -> None:
        pass

    def connection_used(self, seconds: float, ok: bool) -> None:
        self._observer.connection_used(seconds, ok)


class _Unobserved:
    def connections_changed(self, in_use: int, idle: int) -> None:
        pass

    def connection_used(self, seconds: float, ok: bool) -> None:
        pass

    def looked_up(self, target: str, count: int) -> None:
        pass

    def misses_rechecked(self, count: int) -> None:
        pass

    def replica_checked(self, replica: str, healthy: bool, lag_s: float | None) -> None:
        pass


def replica_reads(
    settings: Settings,
    primary: MySqlUserRepository,
    primary_reads: CheckedRepository,
    observer: ReplicaMetrics | None = None,
) -> ReplicaReads:
    """Lookups spread over the replicas, misses confirmed through `primary_reads`; the health
    checks start now, in the background, and stop when the result is closed. A replica that
    cannot be reached yet is logged by the checks and gets no reads: it is no reason to stop."""
    seen = observer or _Unobserved()
    replicas = [
        _replica(settings, url, _QueryTimes(seen)) for url in settings.db_replica_urls or ()
    ]
    monitor = ReplicaMonitor(
        primary,
        replicas,
        interval_s=settings.health_interval_s,
        max_lag_s=settings.db_replica_max_lag_s,
        observer=seen,
    )
    monitor.start()
    return ReplicaReads(
        primary_reads,
        replicas,
        seen,
        cap_s=settings.db_timeout_s,
        max_wait_s=settings.db_replica_max_lag_s,
        on_close=monitor.stop,
    )


def _replica(settings: Settings, url: DatabaseUrl, pool_observer: PoolObserver) -> MySqlReplica:
    server = MySqlUserRepository(
        MySqlTarget(url.host, url.port, url.user, url.database),
        password=lambda: settings.replica_password(url),
        pool_size=settings.db_pool_size,
        connect_timeout_s=settings.db_connect_timeout_s,
        pool_observer=pool_observer,
        query_timeout_s=settings.db_timeout_s,
        tls=tls_context(settings.db_tls, settings.db_tls_ca),  # checked for the primary
        max_idle_s=settings.db_max_idle_s,
        role=f"replica {url.host}:{url.port}",
    )
    reads = CoalescingRepository(
        server, max_in_flight=settings.db_pool_size, cap_s=settings.db_timeout_s
    )
    return MySqlReplica(f"{url.host}:{url.port}", server, reads)
