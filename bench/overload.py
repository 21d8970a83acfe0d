"""`make bench-overload` (and `make bench`): open-loop overload, findsvc beside the naive reference.

Just before each point, the server's capacity is measured closed-loop (32 calls in flight). Then
calls are offered open-loop, at 0.5x to 3x that capacity, each with a 250 ms deadline, as
clients that do not slow down when the server does. Reported per point: goodput (OK answers
within the deadline, per second), the p99 latency of those, the status codes and the share of
the calls sent that each one is (what callers see: a refusal should read as one), and how many
liveness `Check`s, sent every 250 ms as a kubelet would, failed (the naive reference has no
health service: none). Writes bench/overload.json and bench/overload.png.

Every point is measured in each of BENCH_ROUNDS rounds (3), interleaved, so drifting background
load hits every server and level alike; each point reports its median round (by goodput over
the capacity measured just before it), and the liveness failures of all rounds.

Knobs (environment): BENCH_SECONDS per point (default 4), BENCH_WARMUP_S (1), BENCH_ROUNDS (3),
BENCH_OVERLOAD_LEVELS (0.5,1,1.5,2,2.5,3), BENCH_USERS (100000); FINDSVC_* go to findsvc;
BENCH_VARIANTS adds findsvc servers with settings of their own, as in bench/__main__.py.
Targets: bench/targets.py; `python -m bench.report` redraws the table and plot from the JSON.

The generator (bench/open_loop.py) is one process writing pre-encoded HTTP/2 frames; it
reports its own CPU time per call, so each run shows it left the servers their CPU.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.host import cpu_seconds, header, median_round
from bench.open_loop import OpenLoop
from bench.report import publish
from bench.scenarios import scenarios
from bench.servers import seeded_database, start_server, stop_servers
from glarimy.ums.find.v1.find_service_pb2 import FindUserRequest

RESULTS = Path(__file__).resolve().parent / "overload.json"
DEADLINE_S = 0.25
PROBE_EVERY_S = 0.25
CAPACITY_CONCURRENCY = 32
CONNECTIONS = 4
REQUESTS = 10_000  # distinct serialized requests, sent round-robin
FIND_USER = "/glarimy.ums.find.v1.FindService/FindUser"
SERVERS = ("findsvc", "naive")


def _offer(
    target: str, requests: list[bytes], rate: float, warmup_s: float, seconds: float
) -> dict[str, Any]:
    """Sends `rate` calls a second for warmup_s + seconds, whatever the answers; counts the
    calls sent after the warm-up."""
    load = OpenLoop(target, FIND_USER, requests, CONNECTIONS)
    cpu_before, started = time.process_time(), time.perf_counter()
    outcomes = load.run(rate, warmup_s + seconds, warmup_s, DEADLINE_S)
    cpu_s, wall_s = time.process_time() - cpu_before, time.perf_counter() - started
    load.close()
    total = int(rate * (warmup_s + seconds))
    return {
        "offered_per_s": round(rate, 1),
        "codes": dict(outcomes.codes),
        "ok_ms": [s * 1000 for s in outcomes.ok_s],
        "generator_cpu_us_per_call": round(cpu_s / total * 1e6, 1),
        "generator_cpu_share": round(cpu_s / wall_s, 3),
    }


def _capacity(target: str, requests: list[bytes], warmup_s: float, seconds: float) -> float:
    """OK answers a second with CAPACITY_CONCURRENCY calls in flight (closed loop)."""
    load = OpenLoop(target, FIND_USER, requests, CONNECTIONS)
    outcomes = load.closed_loop(CAPACITY_CONCURRENCY, warmup_s + seconds, warmup_s, DEADLINE_S)
    load.close()
    return round((outcomes.codes["OK"] + outcomes.codes["OK_TOO_LATE"]) / seconds, 1)


def _in_process(args: tuple[Any, ...], out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    function, *rest = args
    out.put(function(*rest))


def in_own_process(function: Callable[..., Any], *args: Any, timeout_s: float) -> Any:
    """function(*args), run in a process of its own: the generator's CPU is its own."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_in_process, args=((function, *args), out))
    process.start()
    result = out.get(timeout=timeout_s)
    process.join()
    return result


def measured_capacity(target: str, requests: list[bytes], warmup_s: float, seconds: float) -> float:
    return float(
        in_own_process(_capacity, target, requests, warmup_s, seconds, timeout_s=seconds + 60)
    )


class LivenessProbe:
    """A kubelet: Check("liveness") every 250 ms with a 1 s timeout; counts the failures."""

    def __init__(self, target: str) -> None:
        self._target = target
        self._stop = threading.Event()
        self.sent = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LivenessProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with grpc.insecure_channel(self._target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while not self._stop.wait(PROBE_EVERY_S):
                self.sent += 1
                try:
                    stub.Check(health_pb2.HealthCheckRequest(service="liveness"), timeout=1)
                except grpc.RpcError:
                    self.failed += 1


def offered_point(
    target: str, requests: list[bytes], rate: float, warmup_s: float, seconds: float, health: bool
) -> dict[str, Any]:
    probe = LivenessProbe(target)
    with probe if health else nullcontext():
        result: dict[str, Any] = in_own_process(
            _offer, target, requests, rate, warmup_s, seconds, timeout_s=warmup_s + seconds + 60
        )
    ok_ms = sorted(result.pop("ok_ms"))
    result["goodput_per_s"] = round(len(ok_ms) / seconds, 1)
    result["p99_ok_ms"] = round(ok_ms[int(0.99 * (len(ok_ms) - 1))], 2) if ok_ms else None
    result["code_shares"] = code_shares(result["codes"])
    result["liveness_checks"] = probe.sent if health else None
    result["liveness_failed"] = probe.failed if health else None
    return result


def code_shares(codes: dict[str, int]) -> dict[str, float]:
    """Each status callers saw, as a share of the calls sent, most common first. (A grpc client
    retries a REFUSED_STREAM by itself; this generator counts it as it comes.)"""
    total = sum(codes.values())
    ranked = sorted(((n, code) for code, n in codes.items() if n), reverse=True)
    return {code: round(n / total, 4) for n, code in ranked}


def median_point(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median goodput over capacity; the probes of every round."""
    point = dict(median_round(rounds, by=lambda p: p["goodput_over_capacity"]))
    point["rounds_goodput_over_capacity"] = [p["goodput_over_capacity"] for p in rounds]
    if point["liveness_checks"] is not None:
        point["liveness_checks"] = sum(p["liveness_checks"] for p in rounds)
        point["liveness_failed"] = sum(p["liveness_failed"] for p in rounds)
    return point


def main() -> int:
    seconds = float(os.environ.get("BENCH_SECONDS", "4"))
    warmup_s = float(os.environ.get("BENCH_WARMUP_S", "1"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    levels = [
        float(x) for x in os.environ.get("BENCH_OVERLOAD_LEVELS", "0.5,1,1.5,2,2.5,3").split(",")
    ]
    users = int(os.environ.get("BENCH_USERS", "100000"))
    load_before = os.getloadavg()
    with seeded_database(users, "bench overload") as (database, names):
        chosen = [
            s for s in scenarios(database.url, database.port) if s.key in SERVERS or s.variant
        ]
        servers = {s.key: start_server(s) for s in chosen}
        capacities: dict[str, list[float]] = {key: [] for key in servers}
        samples: dict[str, dict[str, list[dict[str, Any]]]] = {
            key: {str(level): [] for level in levels} for key in servers
        }
        try:
            picks = random.Random(0).choices(names, k=REQUESTS)
            requests = [FindUserRequest(name=name).SerializeToString() for name in picks]
            for round_number in range(1, rounds + 1):
                for level in levels:  # interleaved, so drifting background load hits both alike
                    for key, (process, target) in servers.items():
                        # Measured again just before each point: this machine's speed drifts
                        # by a fifth within a minute, and the point is read against it.
                        capacity = measured_capacity(target, requests, warmup_s, seconds)
                        capacities[key].append(capacity)
                        cpu_before = cpu_seconds(process)
                        point = offered_point(
                            target,
                            requests,
                            level * capacity,
                            warmup_s,
                            seconds,
                            key.startswith("findsvc"),
                        )
                        point["server_cpu_share"] = round(
                            (cpu_seconds(process) - cpu_before) / (warmup_s + seconds), 3
                        )
                        point["capacity_per_s"] = capacity
                        point["goodput_over_capacity"] = round(point["goodput_per_s"] / capacity, 3)
                        samples[key][str(level)].append(point)
                        print(
                            f"bench overload: round {round_number}: {key} at {level}x: {point}",
                            file=sys.stderr,
                        )
        finally:
            stop_servers([process for process, _ in servers.values()])
    settings = {
        "seconds_per_point": seconds,
        "warmup_s": warmup_s,
        "deadline_s": DEADLINE_S,
        "users": users,
        "rounds": rounds,
        "capacity": f"closed loop, {CAPACITY_CONCURRENCY} in flight, OK calls/s, before each point",
        "load_generator": f"1 process, raw HTTP/2 open loop over {CONNECTIONS} connections",
    }
    report: dict[str, Any] = {
        **header(load_before, settings),
        "capacity_per_s": {key: statistics.median(c) for key, c in capacities.items()},
        "results": {
            key: {level: median_point(runs) for level, runs in points.items()}
            for key, points in samples.items()
        },
    }
    report["machine"]["loadavg_after"] = list(os.getloadavg())
    publish(report, RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
