"""The closed-loop run: every chosen scenario at every level, round-robin, the median round kept.

Knobs are read here and described in bench/__main__.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import db_path, rest
from bench.host import cpu_seconds, header
from bench.progress import Progress
from bench.report import publish
from bench.scenarios import HOT_SET, Scenario, scenarios
from bench.servers import Plan, interleaved_rounds, seeded_database
from bench.trickle import trickle
from devkit.load import Sample, run_load

RESULTS = Path(__file__).resolve().parent / "results.json"


def summary(sample: Sample) -> dict[str, Any]:
    return {
        **sample.point(),
        "calls": sample.calls,
        # Server CPU per call: steadier than calls/s when other work shares the machine.
        "server_cpu_us_per_call": sample.cpu_us_per_call(sample.server_cpu_s),
    }


def measure(
    chosen: list[Scenario], names: list[str], plan: Plan
) -> dict[str, dict[str, dict[str, Any]]]:
    """{scenario: {concurrency: the median round's summary}}."""
    progress = Progress(len(chosen) * len(plan.levels) * plan.rounds, plan.seconds + plan.warmup_s)

    def one_round(
        scenario: Scenario, process: subprocess.Popen[bytes], target: str, concurrency: int
    ) -> Sample:
        progress.point(f"{scenario.key} at concurrency {concurrency}")
        pool = names[:HOT_SET] if scenario.hot else names
        cpu_before = cpu_seconds(process)
        sample = run_load(
            target, pool, concurrency, plan.seconds, plan.warmup_s, plan.load_processes
        )
        sample.server_cpu_s = cpu_seconds(process) - cpu_before
        progress.point_done()
        return sample

    medians = interleaved_rounds(chosen, plan, one_round, by=lambda run: run.calls_per_s)
    progress.close()
    return {
        key: {level: summary(median) for level, median in by_level.items()}
        for key, by_level in medians.items()
    }


def main() -> int:
    plan = Plan.from_env("BENCH_CONCURRENCY", "1,8,32,64")
    seconds, warmup_s, rounds = plan.seconds, plan.warmup_s, plan.rounds
    users = int(os.environ.get("BENCH_USERS", "100000"))
    wanted = os.environ.get("BENCH_SCENARIOS")
    writes_per_s = float(os.environ.get("BENCH_WRITES_PER_S", "10"))

    load_before = os.getloadavg()
    with seeded_database(users, "bench", binlog=True) as (database, names):
        chosen = scenarios(database.url, database.port)
        if wanted:
            chosen = [s for s in chosen if s.key in wanted.split(",")]
        print(f"bench: the DB path alone, {db_path.THREADS} threads", file=sys.stderr)
        db_path_results = db_path.measure(database.url, names, seconds)
        rest_results = (
            rest.measure(
                database.url, names, plan.levels, seconds, warmup_s, rounds, plan.load_processes
            )
            if rest.wanted(wanted)
            else None
        )
        with trickle(database.port, names[:HOT_SET], writes_per_s) as written:
            results = measure(chosen, names, plan)
    settings = {
        "seconds_per_point": seconds,
        "rounds": rounds,
        "warmup_s": warmup_s,
        "users": users,
        "hot_set": HOT_SET,
        "load_generator": f"{plan.load_processes} processes of grpc.aio closed-loop clients",
        "writes": f"{sum(written)} phone changes of hot-set users, {writes_per_s:g}/s",
    }
    report: dict[str, Any] = {
        **header(load_before, settings),
        "labels": {s.key: s.label for s in chosen},
        "results": results,
        "db_path": db_path_results,
        "rest": rest_results,
    }
    report["machine"]["loadavg_after"] = list(os.getloadavg())
    publish(report, RESULTS)
    return 0
