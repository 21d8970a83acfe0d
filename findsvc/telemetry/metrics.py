"""Prometheus metrics: every metric object is made here, and served on the metrics port.

The gRPC names and labels are go-grpc-prometheus's, so stock dashboards and alerts work.
Gauges carry a `multiprocess_mode` for prometheus-client's multiprocess mode; it is ignored
when one process serves.
"""

from __future__ import annotations

from typing import Any
from wsgiref.simple_server import WSGIServer

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from findsvc.config import ConfigError
from findsvc.telemetry.metrics_http import start_metrics_http

# go-grpc-prometheus's labels, and who made the call (bounded: entrypoints/callers.py).
GRPC_LABELS = ("grpc_type", "grpc_service", "grpc_method", "caller")

# Queries are point lookups on a unique key: most take a millisecond or two.
DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

CACHE_MODES = ("off", "ttl", "binlog")
FOLLOWER_STATES = ("connecting", "following", "reconnecting")


class _ByLabel:
    """A metric's children by the value of its one label, each made once: labels() takes a
    lock and builds a key on every call, and these are asked on every lookup or query. The
    values are bounded by the code (results, outcomes) or the configuration (replicas)."""

    def __init__(self, metric: Counter | Histogram) -> None:
        self._metric = metric
        self._children: dict[str, Any] = {}

    def __call__(self, value: str) -> Any:
        child = self._children.get(value)
        if child is None:  # two threads may both get here: labels() hands both the same child
            child = self._children[value] = self._metric.labels(value)
        return child


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.grpc_started = Counter(
            "grpc_server_started",
            "RPCs started on the server.",
            GRPC_LABELS,
            registry=registry,
        )
        self.grpc_handled = Counter(
            "grpc_server_handled",
            "RPCs completed on the server, by status code.",
            (*GRPC_LABELS, "grpc_code"),
            registry=registry,
        )
        self.grpc_handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from the start of an RPC to its end on the server, in seconds.",
            GRPC_LABELS,
            registry=registry,
        )
        self.db_query_seconds = Histogram(
            "findsvc_db_query_duration_seconds",
            "Time a pooled DB connection was in use for one query, in seconds.",
            ("outcome",),
            buckets=DB_BUCKETS,
            registry=registry,
        )
        self.db_pool_in_use = Gauge(
            "findsvc_db_pool_connections_in_use",
            "DB connections checked out of the pool (or being opened) now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.db_pool_idle = Gauge(
            "findsvc_db_pool_connections_idle",
            "Open DB connections waiting in the pool for a query.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.cache_lookups = Counter(
            "findsvc_cache_lookups",
            "Lookups the cache saw, by result: hits (answered from the cache), misses (went to"
            " the database), shared (waited for another call's query for the same name).",
            ("result",),
            registry=registry,
        )
        self.cache_mode = Gauge(
            "findsvc_cache_mode",
            "1 for the cache mode this process chose at start (off, ttl or binlog).",
            ("mode",),
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.cache_evictions = Counter(
            "findsvc_cache_evictions",
            "Cache entries dropped because a row whose name could equal theirs changed, or "
            "because the binlog follower lost the feed.",
            registry=registry,
        )
        self.binlog_follower_state = Gauge(
            "findsvc_binlog_follower_state",
            "Processes whose binlog follower is in this state: connecting, following (the "
            "cache answers while the lag allows) or reconnecting (the cache answers nothing).",
            ("state",),
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.binlog_follower_lag = Gauge(
            "findsvc_binlog_follower_lag_seconds",
            "How long ago the newest moment is whose changes the binlog follower has all "
            "applied; over FINDSVC_CACHE_MAX_LAG_S the cache answers nothing.",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.binlog_events = Counter(
            "findsvc_binlog_events_applied",
            "Row events on the users table the binlog follower applied to the cache.",
            registry=registry,
        )
        # Across processes the pod says 1 only when every live process read the table: each
        # has its own connections, and one that cannot reach the DB fails its share of calls.
        self.db_up = Gauge(
            "findsvc_db_up",
            "1 when the last health check read the users table, else 0.",
            registry=registry,
            multiprocess_mode="livemin",
        )

        self.db_lookups = Counter(
            "findsvc_db_lookups",
            "Lookups asked of each database target: primary, or a replica by host:port.",
            ("target",),
            registry=registry,
        )
        self.db_misses_rechecked = Counter(
            "findsvc_db_replica_misses_rechecked",
            "Names a replica did not have, asked again of the primary.",
            registry=registry,
        )
        self.db_replica_lag = Gauge(
            "findsvc_db_replica_lag_seconds",
            "How far each replica is behind its primary, as the last check bounded it.",
            ("replica",),
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.db_replica_healthy = Gauge(
            "findsvc_db_replica_healthy",
            "1 when the last check found the replica reachable and within its lag limit.",
            ("replica",),
            registry=registry,
            multiprocess_mode="livemin",
        )
        # Children of the metrics told on every lookup or query.
        self._cache_lookups_by_result = _ByLabel(self.cache_lookups)
        self._db_lookups_by_target = _ByLabel(self.db_lookups)
        self._db_query_seconds_by_outcome = _ByLabel(self.db_query_seconds)

    # Readiness's observer: set on each check, as a function gauge is not shared across processes.
    def database_checked(self, up: bool) -> None:
        self.db_up.set(1 if up else 0)

    # The adapters' PoolObserver protocol: the pool calls these; prometheus stays out of it.
    def connections_changed(self, in_use: int, idle: int) -> None:
        self.db_pool_in_use.set(in_use)
        self.db_pool_idle.set(idle)

    # The cache's CacheObserver protocol.
    def cache_used(self, result: str, count: int) -> None:
        self._cache_lookups_by_result(result).inc(count)

    # The replica policy's ReadObserver and the replica monitor's ReplicaObserver.
    def looked_up(self, target: str, count: int) -> None:
        self._db_lookups_by_target(target).inc(count)

    def misses_rechecked(self, count: int) -> None:
        self.db_misses_rechecked.inc(count)

    def replica_checked(self, replica: str, healthy: bool, lag_s: float | None) -> None:
        self.db_replica_healthy.labels(replica).set(1 if healthy else 0)
        if lag_s is not None:
            self.db_replica_lag.labels(replica).set(lag_s)

    def cache_evicted(self, count: int) -> None:
        self.cache_evictions.inc(count)

    def cache_mode_chosen(self, mode: str) -> None:
        for each in CACHE_MODES:
            self.cache_mode.labels(each).set(1 if each == mode else 0)

    # The binlog follower's FollowerObserver protocol.
    def follower_state(self, state: str) -> None:
        for each in FOLLOWER_STATES:
            self.binlog_follower_state.labels(each).set(1 if each == state else 0)

    def follower_lag(self, seconds: float) -> None:
        self.binlog_follower_lag.set(seconds)

    def binlog_events_applied(self, count: int) -> None:
        self.binlog_events.inc(count)

    def connection_used(self, seconds: float, ok: bool) -> None:
        self._db_query_seconds_by_outcome("ok" if ok else "error").observe(seconds)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> WSGIServer:
    """Serves /metrics in a daemon thread; port 0 picks a free port (see `server_port`).

    Raises ConfigError when the address cannot be bound.
    """
    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: Prometheus ignores them
    try:
        server = start_metrics_http(registry, host.strip("[]"), port)
    except OSError:
        raise ConfigError(f"cannot serve metrics on port {port}") from None
    return server
