"""Prints bench/results.json as the table docs/performance.md shows: python -m bench.markdown"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> None:
    report = json.loads(RESULTS.read_text())
    results = report["results"]
    naive, ceiling = results.get("naive", {}), results.get("ceiling", {})
    print(
        "| scenario | in flight | calls/s | p50 ms | p99 ms | errors | x naive | x ceiling |"
        " server CPU µs/call |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, levels in results.items():
        for level, point in levels.items():
            vs_naive = _ratio(point["calls_per_s"], naive.get(level, {}).get("calls_per_s"))
            vs_ceiling = _ratio(point["calls_per_s"], ceiling.get(level, {}).get("calls_per_s"))
            print(
                f"| {key} | {level} | {point['calls_per_s']:,.0f} | {point['p50_ms']:.2f}"
                f" | {point['p99_ms']:.2f} | {point['errors']} | {vs_naive} | {vs_ceiling}"
                f" | {point.get('server_cpu_us_per_call')} |"
            )
    print()
    print("| the DB path alone, 16 threads, no gRPC | lookups/s | CPU µs/lookup | mean batch |")
    print("| --- | ---: | ---: | ---: |")
    for name, point in report.get("db_path", {}).items():
        print(
            f"| {name} | {point['lookups_per_s']:,} | {point['cpu_us_per_lookup']}"
            f" | {point.get('mean_batch', '-')} |"
        )


def _ratio(a: float, b: float | None) -> str:
    return f"{a / b:.2f}" if b else "-"


if __name__ == "__main__":
    main()
