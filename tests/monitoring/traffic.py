"""FindUser traffic for the alert unit tests, as findsvc's pods would export it: phases of calls
by code and the share slower than the latency threshold, and a scenario's shape."""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.slo import AVAILABILITY, LATENCY_THRESHOLD_S, SERVICE, Slo
from tests.monitoring.promtool import Expect, counter, series

NAMESPACE = "findsvc"
CALLS_PER_MINUTE = 1000
HEALTHY_SPEND = 0.5  # of the budget, in the healthy phases
# The documented budgets: 99.9 % of calls do not fail, 99 % end within 250 ms.
DOCUMENTED_BUDGETS = {"availability": 0.001, "latency": 0.01}


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
