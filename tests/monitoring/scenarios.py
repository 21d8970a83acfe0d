"""Synthetic series for the alert unit tests, and what each should fire when.

The burn-rate cases follow the SLO math: after `long` minutes of healthy traffic, a bad ratio
`r` lifts the long window's ratio from the healthy `h` over `burn x budget` after
`long x (burn x budget - h) / (r - h)` minutes; the alert then waits `for`. Each case picks `r`
under the next faster pair's burn rate, so a faster alert cannot answer for a slower one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitoring.slo import AVAILABILITY, LATENCY, Slo
from tests.monitoring.component_scenarios import component_scenarios
from tests.monitoring.promtool import Expect
from tests.monitoring.traffic import (
    CALLS_PER_MINUTE,
    DOCUMENTED_BUDGETS,
    HEALTHY_SPEND,
    NAMESPACE,
    Phase,
    Scenario,
    bad,
    healthy,
    traffic,
)

SLACK_STEPS = 3  # rate() extrapolates at the window's edges, and rules run once a sample
MINUTES = {"m": 1, "h": 60, "d": 1440}
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


def minutes(window: str) -> int:
    return int(window[:-1]) * MINUTES[window[-1]]


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


SCENARIOS = [*burn_scenarios(), *silent_scenarios(), *component_scenarios()]
