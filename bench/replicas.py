"""`make bench`, read replicas: findsvc on a primary alone against the same with one replica.

Both serve the same seeded users from the same primary; the lookups ask for 1 % names nobody
has, which a replica cannot answer alone. Reported per concurrency, the median of the rounds:
calls/s, p99, and the primary's SELECTs per 1,000 lookups (its Com_select over the run, health
checks included; the target is at most 50 with a replica).

Knobs: BENCH_SECONDS (2), BENCH_WARMUP_S (1), BENCH_ROUNDS (3), BENCH_USERS (100000),
BENCH_REPLICA_CONCURRENCY (8,32), BENCH_LOAD_PROCESSES (1). Writes bench/replicas.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pymysql

from bench.host import header
from bench.scenarios import FINDSVC, Scenario
from bench.servers import Plan, interleaved_rounds
from devkit.load import Sample, run_load
from devkit.mariadb import PrivateMariaDB, start_replica
from devkit.users import seed_users

RESULTS = Path(__file__).resolve().parent / "replicas.json"
MISS_RATE = 0.01
TARGET_PRIMARY_SELECTS_PER_1000 = 50


def _value(server: PrivateMariaDB, sql: str) -> Any:
    connection = pymysql.connect(host="127.0.0.1", port=server.port, user="root", autocommit=True)
    with connection as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
        return row[-1] if row else None


def com_select(server: PrivateMariaDB) -> int:
    return int(_value(server, "SHOW GLOBAL STATUS LIKE 'Com_select'"))


def wait_applied(replica: PrivateMariaDB, primary: PrivateMariaDB) -> None:
    position = _value(primary, "SELECT @@gtid_binlog_pos")
    escaped = str(position).replace("'", "")
    if _value(replica, f"SELECT MASTER_GTID_WAIT('{escaped}', 300)") != 0:
        raise SystemExit("bench: the replica did not catch up")


def lookups(names: list[str]) -> list[str]:
    """The seeded names with 1 in 100 replaced by a name nobody has."""
    every = round(1 / MISS_RATE)
    # The first name stays: the load generator connects with it.
    return [
        f"NoSuchUser{i:06d}" if i % every == every - 1 else name for i, name in enumerate(names)
    ]


def main() -> int:
    plan = Plan.from_env("BENCH_REPLICA_CONCURRENCY", "8,32")
    users = int(os.environ.get("BENCH_USERS", "100000"))
    load_before = os.getloadavg()
    print(f"bench.replicas: a primary and a replica with {users:,} users", file=sys.stderr)
    primary, replica = PrivateMariaDB(server_id=1), PrivateMariaDB(server_id=2)
    try:
        primary.start()
        replica.start()
        start_replica(replica, primary)
        names = lookups(seed_users(primary, users))
        wait_applied(replica, primary)
        # Where lookups go, not what a cache saves them: every lookup reaches a store.
        base = {
            "FINDSVC_DB_URL": primary.url,
            "FINDSVC_HEALTH_INTERVAL_S": "2",
            "FINDSVC_CACHE_MODE": "off",
        }
        chosen = [
            Scenario("primary", "findsvc on the primary alone", FINDSVC, base),
            Scenario(
                "replica",
                "findsvc with one replica",
                FINDSVC,
                {**base, "FINDSVC_DB_REPLICA_URLS": replica.url},
            ),
        ]
        results = measure(chosen, primary, names, plan)
    finally:
        replica.destroy()
        primary.destroy()
    settings = {
        "seconds_per_point": plan.seconds,
        "rounds": plan.rounds,
        "users": users,
        "miss_rate": MISS_RATE,
    }
    report = {**header(load_before, settings), "results": results}
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(table(results))
    return 0


def measure(
    chosen: list[Scenario], primary: PrivateMariaDB, names: list[str], plan: Plan
) -> dict[str, dict[str, dict[str, Any]]]:

    def one_round(
        _scenario: Scenario, _process: subprocess.Popen[bytes], target: str, concurrency: int
    ) -> tuple[Sample, float]:
        before = com_select(primary)
        sample = run_load(
            target, names, concurrency, plan.seconds, plan.warmup_s, plan.load_processes
        )
        return sample, (com_select(primary) - before) * 1000 / max(1, sample.all_calls)

    medians = interleaved_rounds(chosen, plan, one_round, by=lambda run: run[0].calls_per_s)
    return {
        key: {
            level: {**sample.point(), "primary_selects_per_1000": round(per_1000, 1)}
            for level, (sample, per_1000) in by_level.items()
        }
        for key, by_level in medians.items()
    }


def table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = [
        "| setup | concurrency | calls/s | p99 ms | primary SELECTs per 1,000 lookups |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, by_level in results.items():
        for level, point in by_level.items():
            lines.append(
                f"| {key} | {level} | {point['calls_per_s']:,.0f} | {point['p99_ms']:.2f} |"
                f" {point['primary_selects_per_1000']:.1f} |"
            )
    lines.append(f"Target with a replica: at most {TARGET_PRIMARY_SELECTS_PER_1000} at 1 % misses.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
