"""What the bench aims for, as data: each target names the numbers it compares and the bar.

`evaluate` reads them against a run's results ({scenario: {level: point}}) and gives one
record per target, the form results.json and overload.json keep them in.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Results = Mapping[str, Mapping[str, Mapping[str, Any]]]

_MET: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "<": operator.lt,
}
# Against the highest of the ceilings: the stricter reading.
CEILINGS = ("ceiling", "ceiling_pinned", "ceiling_16")


@dataclass(frozen=True)
class Target:
    name: str
    metric: str  # a field of a point: calls_per_s, p50_ms, goodput_over_capacity...
    numerator: str  # a scenario key
    denominator: tuple[str, ...] = ()  # the highest of these; none: the numerator's value
    level: str | None = "32"  # calls in flight (or offered load); None: the most at any level
    threshold: float = 1.0
    direction: str = ">="
    by: str = "ratio"  # or "difference": numerator - denominator

    def describe(self) -> str:
        where = f"at {self.level}" if self.level else "the most at any level"
        if not self.denominator:
            return f"{self.numerator} {self.metric} {where}"
        sign = "/" if self.by == "ratio" else "-"
        other = self.denominator[0]
        if len(self.denominator) > 1:
            other = f"the highest of ({', '.join(self.denominator)})"
        return f"{self.numerator} {sign} {other}, {self.metric} {where}"


TARGETS = [
    Target("c32_findsvc_over_naive", "calls_per_s", "findsvc", ("naive",), threshold=1.5),
    # A lower p99 than the naive reference's.
    Target("c32_p99_findsvc_over_naive", "p99_ms", "findsvc", ("naive",), direction="<"),
    Target(
        "c1_p50_findsvc_minus_naive_ms",
        "p50_ms",
        "findsvc",
        ("naive",),
        level="1",
        threshold=0.3,
        direction="<=",
        by="difference",
    ),
    # As shipped, the binlog cache: over a hot set it serves from memory; over 100,000
    # uniform users it must cost no more than it saves.
    Target(
        "c32_shipped_hot_over_naive",
        "calls_per_s",
        "findsvc_shipped_hot",
        ("naive",),
        threshold=2.0,
    ),
    Target("c32_shipped_over_naive", "calls_per_s", "findsvc_shipped", ("naive",)),
    Target("c32_cache_over_ceiling", "calls_per_s", "findsvc_cache", CEILINGS, threshold=0.9),
    Target("c32_2proc_over_1proc", "calls_per_s", "findsvc_2proc", ("findsvc",), threshold=1.7),
    Target(
        "c64_2proc_over_1proc",
        "calls_per_s",
        "findsvc_2proc",
        ("findsvc",),
        level="64",
        threshold=1.7,
    ),
]

GOODPUT_AT_2X = Target(
    "findsvc_goodput_at_2x_over_capacity",
    "goodput_over_capacity",
    "findsvc",
    level="2.0",
    threshold=0.9,
)
OVERLOAD_TARGETS = [
    GOODPUT_AT_2X,
    Target(
        "findsvc_liveness_failed_at_any_load",
        "liveness_failed",
        "findsvc",
        level=None,
        threshold=0,
        direction="<=",
    ),
]


def evaluate(targets: list[Target], results: Results) -> list[dict[str, Any]]:
    return [_record(target, results) for target in targets]


def _record(target: Target, results: Results) -> dict[str, Any]:
    def at(key: str) -> float | None:
        levels = results.get(key, {})
        if target.level is not None:
            return levels.get(target.level, {}).get(target.metric)
        values = [p[target.metric] for p in levels.values() if p.get(target.metric) is not None]
        return max(values) if values else None

    inputs = {key: at(key) for key in (target.numerator, *target.denominator)}
    value = inputs[target.numerator]
    if target.denominator:
        other = max((inputs[key] or 0 for key in target.denominator), default=0) or None
        if value is None or other is None:
            value = None
        elif target.by == "ratio":
            value = round(value / other, 2)
        else:
            value = round(value - other, 3)
    return {
        "name": target.name,
        "measure": target.describe(),
        "inputs": inputs,
        "value": value,
        "threshold": f"{target.direction} {target.threshold}",
        "met": None if value is None else _MET[target.direction](value, target.threshold),
    }


def summary(records: list[dict[str, Any]]) -> list[str]:
    """One line a target, for the printed report."""
    verdict = {True: "met", False: "NOT met", None: "no data"}
    return [
        f"{r['name']}: {r['value']} ({r['threshold']}: {verdict[r['met']]}; {r['measure']})"
        for r in records
    ]
