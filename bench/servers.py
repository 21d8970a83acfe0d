"""The servers under load: the private MariaDB's users, and starting a scenario's server.

findsvc is started as the tests start it, through devkit's ServerProcess, and is up when its
health says SERVING. The naive reference, the aio experiment and the ceilings serve no health:
each is its own process on a free port, up when a FindUser is answered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import grpc

from bench.host import Round, median_round
from bench.scenarios import FINDSVC, Scenario
from devkit.mariadb import PrivateMariaDB, free_port
from devkit.server import ServerProcess
from devkit.users import USER_NAME, seed_users
from findsvc.config import Settings
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

START_WITHIN_S = 30

# Beside devkit's defaults: a short grace at the end, and readiness checked as often as
# shipped (devkit's servers check every 0.5 s, for tests), so the load meets findsvc as it is.
BENCH_ENV = {
    "FINDSVC_GRACE_S": "1",
    "FINDSVC_HEALTH_INTERVAL_S": str(Settings().health_interval_s),
}


@contextmanager
def seeded_database(
    users: int, who: str, binlog: bool = False
) -> Iterator[tuple[PrivateMariaDB, list[str]]]:
    """A private MariaDB holding `users` users, and their names; destroyed afterwards.
    `binlog`: it writes the row-based binlog findsvc's cache follows."""
    print(f"{who}: starting a private MariaDB with {users:,} users", file=sys.stderr)
    database = PrivateMariaDB(binlog=binlog)
    database.start()
    try:
        yield database, seed_users(database, users)
    finally:
        database.destroy()


def start_server(
    scenario: Scenario, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The scenario's server process, answering on the returned target (on `port`, else a
    free one: a pod restarted at the same address); killed if it never does."""
    if scenario.command == FINDSVC:
        server = ServerProcess({**BENCH_ENV, **scenario.env}, port=port, keep_logs=False)
        try:
            server.wait_health(timeout_s=START_WITHIN_S)
        except AssertionError:
            server.close()
            raise SystemExit(f"bench: {scenario.key} did not start") from None
        return server.process, server.target
    return _start_other(scenario, port or free_port())


def _start_other(scenario: Scenario, port: int) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINDSVC_")}
    command = [part.replace("{port}", str(port)) for part in scenario.command]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    target = f"127.0.0.1:{port}"
    deadline = time.monotonic() + START_WITHIN_S
    with grpc.insecure_channel(target) as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        while time.monotonic() < deadline:
            try:
                stub.FindUser(find_service_pb2.FindUserRequest(name=USER_NAME.format(0)), timeout=1)
                return process, target
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNAUTHENTICATED:  # up, with token auth on
                    return process, target
                time.sleep(0.2)
    process.kill()
    process.wait()
    raise SystemExit(f"bench: {scenario.key} did not start")


def stop_servers(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


@dataclass(frozen=True)
class Plan:
    """The load each scenario gets: the levels of concurrency, the rounds at each (the median
    is reported), a round's seconds after its warm-up, and the load generator's processes."""

    levels: list[int]
    rounds: int
    seconds: float
    warmup_s: float
    load_processes: int

    @classmethod
    def from_env(cls, levels_variable: str, default_levels: str) -> Plan:
        return cls(
            [int(c) for c in os.environ.get(levels_variable, default_levels).split(",")],
            rounds=int(os.environ.get("BENCH_ROUNDS", "3")),
            seconds=float(os.environ.get("BENCH_SECONDS", "2")),
            warmup_s=float(os.environ.get("BENCH_WARMUP_S", "1")),
            load_processes=int(os.environ.get("BENCH_LOAD_PROCESSES", "1")),
        )


def interleaved_rounds(
    chosen: list[Scenario],
    plan: Plan,
    one_round: Callable[[Scenario, subprocess.Popen[bytes], str, int], Round],
    by: Callable[[Round], float],
) -> dict[str, dict[str, Round]]:
    """{scenario: {concurrency: the median round `by`}}, each scenario's server started once.
    Round-robin over the scenarios, level by level: background load on this shared machine
    drifts, and interleaving spreads it over all of them alike."""
    results: dict[str, dict[str, Round]] = {}
    servers = [start_server(scenario) for scenario in chosen]
    try:
        for concurrency in plan.levels:
            samples: dict[str, list[Round]] = {}
            for _ in range(plan.rounds):
                for scenario, (process, target) in zip(chosen, servers, strict=True):
                    samples.setdefault(scenario.key, []).append(
                        one_round(scenario, process, target, concurrency)
                    )
            for key, runs in samples.items():
                results.setdefault(key, {})[str(concurrency)] = median_round(runs, by)
    finally:
        stop_servers([process for process, _ in servers])
    return results
