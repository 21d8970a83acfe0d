"""What findsvc's dashboard shows: each panel's title, description, unit and Prometheus queries.

`$namespace` picks the deployment; `$__rate_interval` is Grafana's (the tests and the demo put
a fixed window in its place).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.slo import AVAILABILITY, BY_CALLER, LATENCY, LATENCY_THRESHOLD_S, SERVICE, Slo

NS = 'namespace=~"$namespace"'
GRPC = f'grpc_service="{SERVICE}",{NS}'
FIND_USER = f'{GRPC},grpc_method="FindUser"'
RATE = "$__rate_interval"
FINDSVC_CONTAINER = f'container="findsvc",{NS}'


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    unit: str
    queries: tuple[tuple[str, str], ...]  # (PromQL, legend)


def _quantiles(histogram: str, selector: str, by: str = "") -> tuple[tuple[str, str], ...]:
    rate = f"rate({histogram}_bucket{{{selector}}}[{RATE}])"
    return tuple(
        (f"histogram_quantile({q}, sum by (le{by}) ({rate}))", f"p{round(q * 100)}")
        for q in (0.5, 0.95, 0.99)
    )


def _slo_panel(slo: Slo, title: str) -> Panel:
    return Panel(
        title,
        f"The share of FindUser calls that {slo.bad}, against the SLO's budget"
        f" ({slo.budget:.2%}). Above the line, the budget is being spent faster than it lasts.",
        "percentunit",
        (
            (f"{slo.ratio('5m')}{{{NS}}}", "{{namespace}} 5m"),
            (f"{slo.ratio('1h')}{{{NS}}}", "{{namespace}} 1h"),
            (f"vector({slo.budget})", "SLO budget"),
        ),
    )


PANELS = (
    Panel(
        "Calls/s by code",
        "Calls the server finished, by method and status code (health checks left out).",
        "reqps",
        (
            (
                # Codes that did not occur are left out (every code has a series from the start).
                "sum by (grpc_method, grpc_code) ("
                f"rate(grpc_server_handled_total{{{GRPC}}}[{RATE}])) > 0",
                "{{grpc_method}} {{grpc_code}}",
            ),
        ),
    ),
    _slo_panel(AVAILABILITY, "FindUser server-side failures against the SLO"),
    Panel(
        "FindUser latency on the server",
        "p50, p95 and p99 of the time from call start to end, all pods together.",
        "s",
        _quantiles("grpc_server_handling_seconds", FIND_USER),
    ),
    _slo_panel(LATENCY, f"FindUser calls slower than {float(LATENCY_THRESHOLD_S):g} s"),
    Panel(
        "FindService calls/s by caller",
        "Who is calling: the tokens file's names, JWT subjects (bounded: others are 'other'),"
        " and 'unauthenticated', by status code.",
        "reqps",
        (
            (
                "sum by (caller, grpc_code) ("
                f"rate(grpc_server_handled_total{{{GRPC}}}[{RATE}])) > 0",
                "{{caller}} {{grpc_code}}",
            ),
        ),
    ),
    Panel(
        "FindUser server-side failures by caller",
        "The availability SLI per caller over 1 h: whose calls the server fails.",
        "percentunit",
        ((f"{AVAILABILITY.ratio('1h', BY_CALLER)}{{{NS}}}", "{{caller}}"),),
    ),
    Panel(
        "DB query duration",
        "Time a pooled connection was busy with one query, by outcome.",
        "s",
        tuple(
            (expr, f"{legend} {{{{outcome}}}}")
            for expr, legend in _quantiles("findsvc_db_query_duration_seconds", NS, by=", outcome")
        ),
    ),
    Panel(
        "DB pool connections",
        "In use and idle, per pod. In use with none idle on every scrape means calls queue.",
        "short",
        (
            (
                f"sum by (instance) (findsvc_db_pool_connections_in_use{{{NS}}})",
                "in use {{instance}}",
            ),
            (f"sum by (instance) (findsvc_db_pool_connections_idle{{{NS}}})", "idle {{instance}}"),
        ),
    ),
    Panel(
        "Database reachable (findsvc_db_up)",
        "1 when the pod's last health check read the users table.",
        "short",
        ((f"min by (instance) (findsvc_db_up{{{NS}}})", "{{instance}}"),),
    ),
    Panel(
        "DB lookups/s by target",
        "With read replicas: lookups asked of the primary and of each replica, and the names a"
        " replica lacked, asked again of the primary. Without: all on the primary.",
        "reqps",
        (
            (f"sum by (target) (rate(findsvc_db_lookups_total{{{NS}}}[{RATE}]))", "{{target}}"),
            (
                f"sum (rate(findsvc_db_replica_misses_rechecked_total{{{NS}}}[{RATE}]))",
                "misses re-asked on the primary",
            ),
        ),
    ),
    Panel(
        "Replica lag",
        "How far each replica is behind its primary, at most, as the pods' checks found it."
        " Past FINDSVC_DB_REPLICA_MAX_LAG_S it gets no reads; see the next panel.",
        "s",
        ((f"max by (replica) (findsvc_db_replica_lag_seconds{{{NS}}})", "{{replica}}"),),
    ),
    Panel(
        "Replicas in service",
        "1 when every pod's last check found the replica reachable and within its lag limit.",
        "short",
        ((f"min by (replica) (findsvc_db_replica_healthy{{{NS}}})", "{{replica}}"),),
    ),
    Panel(
        "Cache lookups/s",
        "With the cache on: hits, misses (sent to the database) and shared (waited on another"
        " call's query for the same name).",
        "reqps",
        ((f"sum by (result) (rate(findsvc_cache_lookups_total{{{NS}}}[{RATE}]))", "{{result}}"),),
    ),
    Panel(
        "Binlog cache: follower lag and state",
        "How far behind the binlog follower is (over FINDSVC_CACHE_MAX_LAG_S the cache answers"
        " nothing and every lookup goes to the database), and how many processes follow or"
        " reconnect. The cache mode each pod chose at start is in findsvc_cache_mode.",
        "s",
        (
            (
                f"max by (instance) (findsvc_binlog_follower_lag_seconds{{{NS}}})",
                "lag {{instance}}",
            ),
            (
                f"sum by (state) (findsvc_binlog_follower_state{{{NS}}})",
                "processes {{state}}",
            ),
        ),
    ),
    Panel(
        "Binlog cache: row events and evictions/s",
        "Row events on ums_users the followers applied, and cache entries they evicted.",
        "ops",
        (
            (f"sum(rate(findsvc_binlog_events_applied_total{{{NS}}}[{RATE}]))", "row events"),
            (f"sum(rate(findsvc_cache_evictions_total{{{NS}}}[{RATE}]))", "evictions"),
        ),
    ),
    Panel(
        "Shed calls/s (RESOURCE_EXHAUSTED)",
        "Calls turned away because more than FINDSVC_MAX_CONCURRENCY were in flight.",
        "reqps",
        (
            (
                "sum by (grpc_method) (rate(grpc_server_handled_total{"
                f'{GRPC},grpc_code="RESOURCE_EXHAUSTED"}}[{RATE}]))',
                "{{grpc_method}}",
            ),
        ),
    ),
    Panel(
        "CPU per pod",
        "cAdvisor's CPU time of the findsvc container, in cores.",
        "short",
        (
            (
                "sum by (pod) ("
                f"rate(container_cpu_usage_seconds_total{{{FINDSVC_CONTAINER}}}[{RATE}]))",
                "{{pod}}",
            ),
        ),
    ),
    Panel(
        "Memory per pod",
        "cAdvisor's working set of the findsvc container.",
        "bytes",
        (
            (
                f"sum by (pod) (container_memory_working_set_bytes{{{FINDSVC_CONTAINER}}})",
                "{{pod}}",
            ),
        ),
    ),
)
