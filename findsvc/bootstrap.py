"""The composition root: the one place that turns Settings into wired parts.

It builds the repositories, telemetry, the call chain and the gRPC server, and hands each
part what it needs; the parts import nothing from here. `findsvc serve` (cli.py) asks it
for a built Service and runs it.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from findsvc.adapters.mysql.pool import PoolObserver
from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.adapters.mysql.target import MySqlTarget, tls_context
from findsvc.adapters.sqlite import SqliteUserRepository
from findsvc.cache_setup import CacheMetrics, build_cache
from findsvc.config import ConfigError, Settings
from findsvc.contract import FIND_SERVICE_NAME, HEALTH_SERVICE
from findsvc.domain.ports import CheckedRepository, RepositoryMisconfigured, RepositoryUnavailable
from findsvc.entrypoints.chain import CallChain, call_chain
from findsvc.entrypoints.grpc_server import FindServer, server_options
from findsvc.entrypoints.grpc_servicer import FindServicer
from findsvc.entrypoints.health import Readiness
from findsvc.entrypoints.health_port import HealthPort
from findsvc.entrypoints.health_service import HealthService
from findsvc.entrypoints.tls import add_listening_port
from findsvc.policies.breaker import BreakerRepository, CircuitBreaker
from findsvc.policies.coalescing import CoalescingRepository
from findsvc.replica_wiring import ReplicaMetrics, replica_reads
from glarimy.ums.find.v1 import find_service_pb2_grpc

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from findsvc.telemetry.telemetry import Telemetry

# Store failures in a row that open the circuit.
BREAKER_FAILURES = 3

# Where the embedded default keeps its file when no FINDSVC_DB_URL is given.
DEFAULT_SQLITE_PATH = Path("var/findsvc.db")


def build_store(
    settings: Settings, pool_observer: PoolObserver | None = None
) -> MySqlUserRepository | SqliteUserRepository:
    """The driver FINDSVC_DB_URL names, with no policy over it: for `findsvc db` chores."""
    url = settings.db_url
    if url is None:
        return SqliteUserRepository(DEFAULT_SQLITE_PATH)
    if url.scheme == "sqlite":
        return SqliteUserRepository(Path(url.path))
    return MySqlUserRepository(
        MySqlTarget(url.host, url.port, url.user, url.database),
        password=lambda: settings.db_password,
        pool_size=settings.db_pool_size,
        connect_timeout_s=settings.db_connect_timeout_s,
        query_timeout_s=settings.db_timeout_s,
        pool_observer=pool_observer,
        tls=db_tls_context(settings.db_tls, settings.db_tls_ca),
        max_idle_s=settings.db_max_idle_s,
    )


def build_repository(
    settings: Settings, pool_observer: PoolObserver | None = None
) -> CheckedRepository:
    """The store as each query of `serve` reaches it: behind the circuit breaker when it is a
    database over the network (see build_serving_repository for the order and why)."""
    store = build_store(settings, pool_observer)
    if not settings.db_over_network:
        return store
    return BreakerRepository(
        store, CircuitBreaker(BREAKER_FAILURES, settings.breaker_retry_after_s)
    )


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
    replica_observer: ReplicaMetrics | None = None,
    say: Callable[[str], None] | None = None,
) -> CheckedRepository:
    """The repository `serve` uses: the store under its policies, in this order, innermost
    first, and for these reasons:

    1. The circuit breaker, next to the store (build_repository): it must see each query's
       own outcome, and a coalesced batch is one query to it, so one outage counts once.
    2. Coalescing, over the breaker: it starts when every pooled connection is busy, and
       lookups arriving then share the next query. While the circuit is open, each lookup
       fails at once in the breaker, so none queues for a store that is down.
    3. Replica reads (with FINDSVC_DB_REPLICA_URLS), over the primary's coalescing: lookups
       go to the replicas, each with its own pool and coalescing, and only what a replica
       cannot know (a miss, a read after a write it has not applied) reaches the primary
       through 1 and 2.
    4. The cache, outermost: a hit costs no queue slot and no query, and is still answered
       while the circuit is open; a miss runs on the cache's own thread, through the others.
       FINDSVC_CACHE_MODE picks it (cache_setup.py): kept exact by the binlog, by a TTL, or
       none.

    The embedded SQLite file (the dev default) gets only the cache: it has no network to fail
    and no pool of connections to queue for.
    """
    # A call's budget is set at the edge; the cap bounds work no call started (a cache miss's
    # shared lookup, a tool).
    cap_s = settings.db_timeout_s
    users = store = build_repository(settings, pool_observer)
    if settings.db_over_network:
        users = CoalescingRepository(
            users, max_in_flight=settings.db_queries_in_flight, cap_s=cap_s
        )
    if settings.db_replica_urls and isinstance(store, BreakerRepository):
        users = replica_reads(settings, store.inner, users, replica_observer)
    # Outermost: a hit costs no lock of the layers below. Mode and follower: cache_setup.py.
    return build_cache(
        settings, users, db_tls_context(settings.db_tls, settings.db_tls_ca), cache_observer, say
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
    # The settings that need no database first: a wrong tokens file stops the start before
    # a connection is made or a follower started.
    calls = call_chain(settings, telemetry)
    said: list[str] = []  # what the parts say as they are built, logged once the server is
    users = build_serving_repository(
        settings,
        pool_observer=telemetry.metrics,
        cache_observer=telemetry.metrics,
        replica_observer=telemetry.metrics,
        say=said.append,
    )
    check_store_client(users)
    try:
        server = build_server(settings, users, calls)
        server.readiness.on_database_checked(telemetry.metrics.database_checked)
        if settings.processes == 1:  # several: the supervisor serves /metrics for all of them
            telemetry.start()
    except ConfigError:
        users.close()
        raise
    for line in said:
        log.info(line)
    return Service(server, users, telemetry)


def build_server(settings: Settings, users: CheckedRepository, calls: CallChain) -> FindServer:
    """FindService on `users`, health and reflection, behind `calls`, listening (not yet
    started). Raises ConfigError when the port cannot be had."""
    server = grpc.server(
        # gRPC's default pool: every served method has a lane of its own, and refusals run
        # on the polling thread (call_lanes.py), so nothing is expected to run here.
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="default"),
        options=server_options(settings),
        interceptors=calls.interceptors,
    )
    find_service_pb2_grpc.add_FindServiceServicer_to_server(
        FindServicer(users, settings.cache_control), server
    )
    health = HealthService()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    if settings.reflection:
        served = (FIND_SERVICE_NAME, HEALTH_SERVICE.full_name, reflection.SERVICE_NAME)
        reflection.enable_server_reflection(served, server)
    readiness = Readiness(
        health, users.ping, settings.health_interval_s, settings.readiness_check_s
    )
    try:
        port = add_listening_port(server, settings)
    except RuntimeError:
        raise ConfigError(f"cannot listen on {settings.listen_address}") from None
    health_port = None if settings.health_port is None else HealthPort(settings, health)
    return FindServer(settings, server, port, readiness, calls.closing_gate, health_port)
