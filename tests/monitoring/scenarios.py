"""Synthetic series for the alert unit tests, and what each should fire when.

The burn-rate cases follow the SLO math: after `long` minutes of healthy traffic, a bad ratio
`r` lifts the long window's ratio from the healthy `h` over `burn x budget` after
`long x (burn x budget - h) / (r - h)` minutes; the alert then waits `for`. Each case picks `r`
under the next faster pair's burn rate, so a faster alert cannot answer for a slower one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitoring.slo import AVAILABILITY, LATENCY, LATENCY_THRESHOLD_S, SERVICE, Slo
from tests.monitoring.promtool import Expect, counter, gauge, series

NAMESPACE = "findsvc"
CALLS_PER_MINUTE = 1000
SLACK_STEPS = 3  # rate() extrapolates at the window's edges, and rules run once a sample
MINUTES = {"m": 1, "h": 60, "d": 1440}
HEALTHY_SPEND = 0.5  # of the budget, in the healthy phases
CLIENT_ERRORS = ("NOT_FOUND", "INVALID_ARGUMENT", "UNAUTHENTICATED", "CANCELLED")


@dataclass(frozen=True)
class DocumentedBurn:
    """A burn alert as the README's alert table states it, typed here, not read from the code
    the rules come from: a changed rate, window or `for` in monitoring/slo.py fails a test."""

    speed: str  # Fast, Slow: in the alert's name
    pairs: tuple[tuple[str, str, float], ...]  # (long window, short window, x the budget)
    for_minutes: int


DOCUMENTED_BURNS = (
    DocumentedBurn("Fast", (("1h", "5m", 14.4), ("6h", "30m", 6)), for_minutes=2),
    DocumentedBurn("Slow", (("1d", "2h", 3), ("3d", "6h", 1)), for_minutes=15),
)
# The documented budgets: 99.9 % of calls do not fail, 99 % end within 250 ms.
DOCUMENTED_BUDGETS = {"availability": 0.001, "latency": 0.01}


def minutes(window: str) -> int:
    return int(window[:-1]) * MINUTES[window[-1]]


def pod(index: int) -> dict[str, str]:
    return {
        "namespace": NAMESPACE,
        "pod": f"findsvc-{index}",
        "instance": f"10.0.0.{index + 1}:9464",
        "job": "findsvc",
    }


@dataclass(frozen=True)
class Phase:
    """`minutes` of FindUser traffic: calls per minute by code, and the share slower than the
    latency threshold."""

    minutes: int
    codes: dict[str, float]
    slow: float = 0.0


def healthy(length: int) -> Phase:
    """Each SLO's budget half spent (failures, slow calls), and 10 % client errors."""
    failing = CALLS_PER_MINUTE * DOCUMENTED_BUDGETS["availability"] * HEALTHY_SPEND
    return Phase(
        length,
        {
            "OK": CALLS_PER_MINUTE * 0.9 - failing,
            "NOT_FOUND": CALLS_PER_MINUTE * 0.1,
            "UNAVAILABLE": failing,
        },
        slow=DOCUMENTED_BUDGETS["latency"] * HEALTHY_SPEND,
    )


def bad(slo: Slo, ratio: float, length: int) -> Phase:
    if slo is AVAILABILITY:
        failing = CALLS_PER_MINUTE * ratio
        return Phase(length, {"OK": CALLS_PER_MINUTE - failing, "UNAVAILABLE": failing})
    return Phase(length, {"OK": CALLS_PER_MINUTE}, slow=ratio)


def traffic(*phases: Phase, step: int = 1) -> list[dict[str, str]]:
    labels = {**pod(0), "grpc_service": SERVICE, "grpc_method": "FindUser", "grpc_type": "unary"}
    codes = sorted({code for phase in phases for code in phase.codes} | {"UNAVAILABLE"})
    handled = [
        series(
            "grpc_server_handled_total",
            counter(*((p.minutes // step, p.codes.get(code, 0.0) * step) for p in phases)),
            **labels,
            grpc_code=code,
        )
        for code in codes
    ]
    totals = [(p.minutes // step, sum(p.codes.values()) * step) for p in phases]
    fast = [
        (samples, calls * (1 - p.slow)) for (samples, calls), p in zip(totals, phases, strict=True)
    ]
    histogram = "grpc_server_handling_seconds"
    return [
        *handled,
        series(f"{histogram}_bucket", counter(*fast), **labels, le=LATENCY_THRESHOLD_S),
        series(f"{histogram}_bucket", counter(*totals), **labels, le="+Inf"),
        series(f"{histogram}_count", counter(*totals), **labels),
    ]


@dataclass(frozen=True)
class Scenario:
    name: str
    input_series: list[dict[str, str]]
    expects: list[Expect]
    step: int = 1  # minutes between samples, and between rule evaluations


def _slo_labels(slo: Slo) -> dict[str, str]:
    return {"namespace": NAMESPACE, "slo": slo.key}


def _round_up(value: float, step: int) -> int:
    return math.ceil(value / step) * step


def burn_scenarios() -> list[Scenario]:
    """Each burn alert of each SLO, at a burn rate under the next faster pair's: it fires when
    the first of its pairs that can fire crosses, plus `for`, and not before."""
    found = []
    for slo in (AVAILABILITY, LATENCY):
        budget = DOCUMENTED_BUDGETS[slo.key]
        for speed, burn in enumerate(DOCUMENTED_BURNS):
            name = f"Findsvc{slo.key.title()}{burn.speed}Burn"
            step = 1 if speed == 0 else 10  # days of series: a sample every 10 minutes
            faster = DOCUMENTED_BURNS[speed - 1].pairs[-1][2] if speed else None
            for index, (_, _, rate) in enumerate(burn.pairs):
                above = faster if index == 0 else burn.pairs[index - 1][2]
                burn_rate = (rate + above) / 2 if above else 1 / budget  # an outage
                before = HEALTHY_SPEND
                cross = min(
                    minutes(long) * (pair_rate - before) / (burn_rate - before)
                    for long, _, pair_rate in burn.pairs
                    if burn_rate > pair_rate
                )
                start = max(minutes(long) for long, _, _ in burn.pairs)  # a full history first
                slack = SLACK_STEPS * step
                fires_by = _round_up(start + cross + burn.for_minutes + slack, step)
                silent_at = start + max(step, (math.floor(cross) - slack) // step * step)
                phases = [
                    healthy(start),
                    bad(slo, burn_rate * budget, fires_by - start + step),
                ]
                found.append(
                    Scenario(
                        f"{name} at {burn_rate:g}x the budget",
                        traffic(*phases, step=step),
                        [Expect(silent_at, name), Expect(fires_by, name, [_slo_labels(slo)])],
                        step,
                    )
                )
    return found


def _every_alert_silent(at: list[int]) -> list[Expect]:
    from monitoring.rules import alerts

    return [Expect(minute, alert["alert"]) for minute in at for alert in alerts()]


def silent_scenarios() -> list[Scenario]:
    days = minutes("3d") + minutes("6h")
    burst = [healthy(60), Phase(30, {code: CALLS_PER_MINUTE / 4 for code in CLIENT_ERRORS})]
    return [
        Scenario(
            "healthy traffic spending half of each budget, for 7 hours",
            traffic(healthy(7 * 60)),
            _every_alert_silent([5, 60, 360, 7 * 60 - 1]),
        ),
        Scenario(
            "healthy traffic spending half of each budget, for 3 days and 6 hours",
            traffic(healthy(days + 10), step=10),
            _every_alert_silent([1440, minutes("3d"), days]),
            step=10,
        ),
        Scenario(
            "a burst of nothing but client errors",
            traffic(*burst, healthy(60)),
            _every_alert_silent([65, 75, 90, 120, 150]),
        ),
    ]


def _gauges(metric: str, *per_pod: str) -> list[dict[str, str]]:
    return [series(metric, values, **pod(index)) for index, values in enumerate(per_pod)]


def component_scenarios() -> list[Scenario]:
    shed_labels = {**pod(0), "grpc_service": SERVICE}
    restart_labels = {"namespace": NAMESPACE, "container": "findsvc", "job": "kube-state-metrics"}
    restarts = "kube_pod_container_status_restarts_total"
    return [
        Scenario(
            "the database unreachable for 5 minutes, beside a pod whose checks flap",
            _gauges(
                "findsvc_db_up",
                gauge((10, 1), (20, 0)),
                gauge((10, 1), (3, 0), (1, 1), (3, 0), (1, 1), (3, 0), (10, 1)),
            ),
            [
                Expect(14, "FindsvcDatabaseDown"),
                Expect(16, "FindsvcDatabaseDown", [pod(0)]),
                Expect(25, "FindsvcDatabaseDown", [pod(0)]),
            ],
        ),
        Scenario(
            "a pool busy at every scrape for 10 minutes, beside an idle one and a nearly full one",
            _gauges(
                "findsvc_db_pool_connections_in_use", gauge((40, 8)), gauge((40, 0)), gauge((40, 8))
            )
            + _gauges(
                "findsvc_db_pool_connections_idle",
                gauge((10, 2), (30, 0)),
                gauge((40, 0)),
                " ".join([gauge((4, 0), (1, 1))] * 8),
            ),
            [
                Expect(19, "FindsvcDbPoolSaturated"),
                Expect(22, "FindsvcDbPoolSaturated", [pod(0)]),
                Expect(39, "FindsvcDbPoolSaturated", [pod(0)]),
            ],
        ),
        Scenario(
            "calls shed for 10 minutes",
            traffic(
                Phase(10, {"OK": CALLS_PER_MINUTE}),
                Phase(30, {"OK": CALLS_PER_MINUTE - 2, "RESOURCE_EXHAUSTED": 2}),
            ),
            [
                Expect(19, "FindsvcLoadShedding"),
                Expect(23, "FindsvcLoadShedding", [shed_labels]),
                Expect(23, "FindsvcAvailabilityFastBurn"),
            ],
        ),
        Scenario(
            "three restarts in half an hour, beside a pod that restarted twice in an hour",
            [
                series(
                    restarts,
                    gauge((10, 0), (10, 1), (10, 2), (50, 3)),
                    **restart_labels,
                    pod="findsvc-0",
                ),
                series(
                    restarts, gauge((10, 0), (50, 1), (20, 2)), **restart_labels, pod="findsvc-1"
                ),
            ],
            [
                Expect(25, "FindsvcPodRestarting"),
                Expect(31, "FindsvcPodRestarting", [{**restart_labels, "pod": "findsvc-0"}]),
                Expect(65, "FindsvcPodRestarting", [{**restart_labels, "pod": "findsvc-0"}]),
                Expect(79, "FindsvcPodRestarting"),
            ],
        ),
        Scenario(
            "a replica out of service on every pod for 5 minutes, beside one out on a single pod",
            [
                series("findsvc_db_replica_healthy", values, **pod(index), replica=replica)
                for index in (0, 1)
                for replica, values in (
                    ("replica-a:3306", gauge((10, 1), (20, 0))),
                    ("replica-b:3306", gauge((10, 1), (20, 0 if index == 0 else 1))),
                )
            ],
            [
                Expect(14, "FindsvcReplicaOutOfService"),
                Expect(
                    16,
                    "FindsvcReplicaOutOfService",
                    [{"namespace": NAMESPACE, "replica": "replica-a:3306"}],
                ),
            ],
        ),
        Scenario(
            "a scrape failing for 5 minutes, beside one that failed for 2",
            _gauges("up", gauge((10, 1), (20, 0)), gauge((10, 1), (2, 0), (18, 1))),
            [
                Expect(14, "FindsvcScrapeFailing"),
                Expect(16, "FindsvcScrapeFailing", [pod(0)]),
            ],
        ),
    ]


SCENARIOS = [*burn_scenarios(), *silent_scenarios(), *component_scenarios()]
