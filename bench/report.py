"""The bench's report: its tables, and `python -m bench.report`, which redraws it from the JSON.

    .venv/bin/python -m bench.report [bench/results.json] [bench/overload.json]

re-evaluates the targets (bench/targets.py) from the results, writes them back into each JSON,
prints the tables and redraws the PNG beside it. No load is run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench import plot
from bench.db_path import THREADS as DB_PATH_THREADS
from bench.targets import OVERLOAD_TARGETS, TARGETS, evaluate, summary

HERE = Path(__file__).resolve().parent


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def table(report: dict[str, Any]) -> str:
    results = report["results"]
    naive, ceiling = results.get("naive", {}), results.get("ceiling", {})
    lines = [
        f"{'scenario':<21} {'conc':>4} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
        f" {'x naive':>8} {'x ceiling':>9} {'cpu us/call':>11}",
    ]
    for key, levels in results.items():
        for level, point in levels.items():
            vs_naive = _ratio(point["calls_per_s"], naive.get(level, {}).get("calls_per_s"))
            vs_ceiling = _ratio(point["calls_per_s"], ceiling.get(level, {}).get("calls_per_s"))
            lines.append(
                f"{key:<21} {level:>4} {point['calls_per_s']:>9,.0f} {point['p50_ms']:>8.2f}"
                f" {point['p99_ms']:>8.2f} {point['errors']:>6} {vs_naive or '-':>8}"
                f" {vs_ceiling or '-':>9} {point.get('server_cpu_us_per_call') or '-':>11}"
            )
    lines.append("")
    lines.append(f"the DB path alone, {DB_PATH_THREADS} threads, no gRPC:")
    lines.extend(f"  {name:<42} {point}" for name, point in report.get("db_path", {}).items())
    if report.get("rest"):
        lines += ["", rest_table(report["rest"])]
    lines.append("")
    lines.extend(summary(report["targets"]))
    m = report["machine"]
    lines.append(
        f"machine: {m['cpus']} cpus ({m['cpu']}), load avg before {m['loadavg_before'][0]:.2f},"
        f" after {m['loadavg_after'][0]:.2f}"
    )
    return "\n".join(lines)


def rest_table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = ["REST, gRPC-Web and Connect through Envoy (HTTP/1.1) beside direct gRPC, cache off:"]
    lines.append(
        f"  {'way':<8} {'conc':>4} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'findsvc us/call':>16} {'envoy us/call':>14} {'errors':>7}"
    )
    for way, points in results.items():
        for level, point in points.items():
            envoy_us = point["envoy_cpu_us_per_call"]
            lines.append(
                f"  {way:<8} {level:>4} {point['calls_per_s']:>9} {point['p50_ms']:>8}"
                f" {point['p99_ms']:>8} {point['findsvc_cpu_us_per_call']!s:>16}"
                f" {'-' if envoy_us is None else envoy_us!s:>14} {point['errors']:>7}"
            )
    return "\n".join(lines)


def _shares(point: dict[str, Any]) -> str:
    shares = point.get("code_shares")  # older reports have the counts only
    if shares is None:
        return str(point["codes"])
    return ", ".join(f"{code} {share:.1%}" for code, share in shares.items())


def overload_table(report: dict[str, Any]) -> str:
    width = max([8, *map(len, report["results"])])
    lines = [
        f"{'server':<{width}} {'load':>5} {'offered/s':>9} {'goodput/s':>9} {'x cap':>6}"
        f" {'p99 ok ms':>9} {'probes failed':>13} {'gen us/call':>11}  codes"
    ]
    for key, levels in report["results"].items():
        for level, p in levels.items():
            probes = (
                "-"
                if p["liveness_checks"] is None
                else f"{p['liveness_failed']}/{p['liveness_checks']}"
            )
            lines.append(
                f"{key:<{width}} {level:>5} {p['offered_per_s']:>9,.0f} {p['goodput_per_s']:>9,.0f}"
                f" {p['goodput_over_capacity']:>6} {p['p99_ok_ms'] or '-':>9} {probes:>13}"
                f" {p['generator_cpu_us_per_call']:>11}  {_shares(p)}"
            )
    lines.append(f"capacity (calls/s): {report['capacity_per_s']}")
    lines.extend(summary(report["targets"]))
    return "\n".join(lines)


def publish(report: dict[str, Any], path: Path) -> None:
    """Evaluates the targets into the report, writes it to path, prints it, draws path's PNG."""
    overload = "capacity_per_s" in report
    report["targets"] = evaluate(OVERLOAD_TARGETS if overload else TARGETS, report["results"])
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(overload_table(report) if overload else table(report))
    (plot.overload if overload else plot.closed_loop)(report, path.with_suffix(".png"))


def main(paths: list[str]) -> int:
    files = [Path(p) for p in paths] or [HERE / "results.json", HERE / "overload.json"]
    for path in files:
        if not path.exists():
            print(f"bench.report: no {path.name}, nothing to redraw", file=sys.stderr)
            continue
        publish(json.loads(path.read_text()), path)
        print(f"bench.report: redrew {path.with_suffix('.png').name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
