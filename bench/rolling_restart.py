"""`make bench` (and `python -m bench.rolling_restart`): a rolling restart, as callers see it.

Two findsvc servers behind one round_robin channel per caller, as a headless Service gives a
client its pods; BENCH_CALLERS (16) callers call FindUser in a loop. Each server in turn gets
SIGTERM (a drain of FINDSVC_DRAIN_S, 1 s here) and a fresh one takes its port, as a pod
restarted in place. Two clients, each in every round:

- plain: round_robin and retries on UNAVAILABLE (the published retry policy, without
  health checking): it learns a server is leaving only when the server refuses its calls;
- health-checking: the published service config (findsvc.client.SERVICE_CONFIG), whose
  client-side health checking stops picking a server once its drain turns readiness off.

Reported per client and round: calls, and the calls that failed, by status code (a rolling
update should fail none). Knobs: BENCH_ROUNDS (3), BENCH_CALLERS (16), BENCH_USERS (1000).
Writes bench/rolling_restart.json.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from bench.host import header
from bench.scenarios import FINDSVC, Scenario, tuning
from bench.servers import seeded_database, start_server
from devkit.callers import Load
from findsvc.client import SERVICE_CONFIG

RESULTS = Path(__file__).resolve().parent / "rolling_restart.json"
DRAIN_S = "1"
SERVED_BEFORE_STOP_S = 2.0  # calls reach every server before it is stopped
EXPECTED = {"OK", "NOT_FOUND"}


def plain_config() -> dict[str, Any]:
    config = copy.deepcopy(SERVICE_CONFIG)
    del config["healthCheckConfig"]
    return config


CLIENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "plain": plain_config,
    "health_checking": lambda: SERVICE_CONFIG,
}


def channel(target: str, config: dict[str, Any]) -> grpc.Channel:
    options = [
        ("grpc.service_config", json.dumps(config)),
        ("grpc.enable_retries", 1),
        # The restarted server is back at its address within a second or two.
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 200),
    ]
    return grpc.insecure_channel(target, options=options)


def restart_in_place(scenario: Scenario, old: Any, port: int) -> Any:
    old.send_signal(signal.SIGTERM)
    old.wait(timeout=60)
    return start_server(scenario, port=port)[0]


def one_round(scenario: Scenario, config: dict[str, Any], names: list[str], callers: int) -> Any:
    pods = [start_server(scenario) for _ in range(2)]
    ports = [int(target.rsplit(":", 1)[1]) for _, target in pods]
    processes = [process for process, _ in pods]
    target = "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports)
    try:
        with Load(target, names, callers, channel_factory=lambda at: channel(at, config)) as load:
            for i, port in enumerate(ports):
                time.sleep(SERVED_BEFORE_STOP_S)
                processes[i] = restart_in_place(scenario, processes[i], port)
            time.sleep(SERVED_BEFORE_STOP_S)
    finally:
        for process in processes:
            process.kill()
            process.wait()
    codes = {code.name: n for code, n in load.codes().items()}
    failed = {code: n for code, n in codes.items() if code not in EXPECTED}
    return {"calls": sum(codes.values()), "failed": sum(failed.values()), "codes": failed}


def main() -> int:
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    callers = int(os.environ.get("BENCH_CALLERS", "16"))
    users = int(os.environ.get("BENCH_USERS", "1000"))
    load_before = os.getloadavg()
    results: dict[str, list[dict[str, Any]]] = {client: [] for client in CLIENTS}
    with seeded_database(users, "bench rolling restart") as (database, names):
        env = {"FINDSVC_DB_URL": database.url, "FINDSVC_DRAIN_S": DRAIN_S, **tuning()}
        scenario = Scenario("findsvc", "findsvc, two servers restarted in turn", FINDSVC, env)
        for round_number in range(1, rounds + 1):
            for client, config in CLIENTS.items():  # interleaved, as background load drifts
                result = one_round(scenario, config(), names, callers)
                results[client].append(result)
                print(
                    f"bench rolling restart: round {round_number}: {client}: {result}",
                    file=sys.stderr,
                )
    settings = {"rounds": rounds, "callers": callers, "users": users, "drain_s": DRAIN_S}
    report = {**header(load_before, settings), "results": results}
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    for client, runs in results.items():
        failed = [run["failed"] for run in runs]
        calls = sum(run["calls"] for run in runs)
        print(f"{client:<16} {calls:>9,} calls  failed per round: {failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
