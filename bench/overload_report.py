"""The overload scenario's report: its targets, its table and its plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def targets(points: dict[str, dict[str, Any]]) -> dict[str, object]:
    at_2x = points.get("findsvc", {}).get("2.0", {})
    return {
        "findsvc_goodput_at_2x_over_capacity (>= 0.9)": at_2x.get("goodput_over_capacity"),
        "findsvc_liveness_failed_at_any_load (0)": sum(
            p["liveness_failed"] or 0 for p in points.get("findsvc", {}).values()
        ),
    }


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{'server':<8} {'load':>5} {'offered/s':>9} {'goodput/s':>9} {'x cap':>6} {'p99 ok ms':>9}"
        f" {'probes failed':>13} {'gen us/call':>11}  codes"
    ]
    for key, levels in report["results"].items():
        for level, p in levels.items():
            probes = (
                "-"
                if p["liveness_checks"] is None
                else f"{p['liveness_failed']}/{p['liveness_checks']}"
            )
            lines.append(
                f"{key:<8} {level:>5} {p['offered_per_s']:>9,.0f} {p['goodput_per_s']:>9,.0f}"
                f" {p['goodput_over_capacity']:>6} {p['p99_ok_ms'] or '-':>9} {probes:>13}"
                f" {p['generator_cpu_us_per_call']:>11}  {p['codes']}"
            )
    lines.append(f"capacity (calls/s): {report['capacity_per_s']}")
    lines.extend(f"{name}: {value}" for name, value in report["targets"].items())
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (goodput, p99) = plt.subplots(1, 2, figsize=(12, 4.5))
    for key, levels in report["results"].items():
        xs = [float(level) for level in levels]
        goodput.plot(
            xs, [p["goodput_over_capacity"] for p in levels.values()], marker="o", label=key
        )
        p99.plot(xs, [p["p99_ok_ms"] for p in levels.values()], marker="o", label=key)
    ideal_xs = [0.0, 1.0, max(xs)]
    goodput.plot(ideal_xs, [min(x, 1.0) for x in ideal_xs], ":", color="grey", label="ideal")
    ratios = [
        p["goodput_over_capacity"] for levels in report["results"].values() for p in levels.values()
    ]
    goodput.set_ylim(0, max(1.3, max(ratios) + 0.1))
    goodput.set_ylabel("goodput / capacity (OK within 250 ms)")
    goodput.set_title("Goodput under open-loop load")
    p99.set_ylabel("ms")
    p99.set_title("p99 latency of the OK calls")
    for axis in (goodput, p99):
        axis.set_xlabel("offered load / the server's capacity")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    m = report["machine"]
    figure.suptitle(f"findsvc make bench-overload, {m['cpus']} cpus, {report['when']}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
