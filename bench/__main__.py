"""`make bench`: closed-loop load on findsvc, the naive reference and the transport ceiling.

Knobs (environment): BENCH_SECONDS per point (default 2), BENCH_ROUNDS (3; the median
round is reported), BENCH_WARMUP_S (1),
BENCH_CONCURRENCY (1,8,32,64), BENCH_SCENARIOS (all; a comma list of the keys below),
BENCH_USERS (100000), BENCH_LOAD_PROCESSES (1: a second one takes CPU from the servers
on 2 cores). FINDSVC_* variables set by the caller are
passed to the findsvc servers, for tuning runs (e.g. FINDSVC_WORKERS=4); BENCH_VARIANTS adds
findsvc servers with settings of their own to the same interleaved run, e.g.
BENCH_VARIANTS="w4:FINDSVC_WORKERS=4;pool1:FINDSVC_DB_POOL_SIZE=1,FINDSVC_WORKERS=8".
Writes bench/results.json and bench/results.png.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import grpc
import pymysql

from bench import db_path, rest
from bench.load import Sample, run_load
from findsvc.config import Settings
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.mariadb import PrivateMariaDB, free_port

HERE = Path(__file__).resolve().parent
HOT_SET = 1000


@dataclass
class Scenario:
    key: str
    label: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    hot: bool = False


def scenarios(db_url: str, db_port: int) -> list[Scenario]:
    findsvc = [sys.executable, "-m", "findsvc", "serve"]
    tuning = {k: v for k, v in os.environ.items() if k.startswith("FINDSVC_")}
    workers = Settings().workers  # findsvc's default, which the ceilings copy
    base = {"FINDSVC_DB_URL": db_url, **tuning}
    variants = [
        Scenario(
            f"findsvc_{key}",
            f"findsvc FindUser, cache off, {settings}",
            findsvc,
            {**base, **dict(pair.split("=", 1) for pair in settings.split(","))},
        )
        for key, _, settings in (
            variant.partition(":")
            for variant in os.environ.get("BENCH_VARIANTS", "").split(";")
            if variant
        )
    ]
    return [
        Scenario("findsvc", "findsvc FindUser, cache off", findsvc, base),
        *variants,
        Scenario(
            "findsvc_16",
            "findsvc FindUser, cache off, 16 threads (the earlier default)",
            findsvc,
            {**base, "FINDSVC_WORKERS": "16"},
        ),
        Scenario(
            "findsvc_cache",
            f"findsvc FindUser, cache on, hot set of {HOT_SET:,}",
            findsvc,
            {**base, "FINDSVC_CACHE_TTL_S": "600"},
            hot=True,
        ),
        Scenario(
            "findsvc_pinned",
            "findsvc FindUser, cache off, FINDSVC_CPU_PINNING=1",
            findsvc,
            {**base, "FINDSVC_CPU_PINNING": "1"},
        ),
        Scenario(
            "findsvc_cache_pinned",
            f"findsvc FindUser, cache on, hot set of {HOT_SET:,}, FINDSVC_CPU_PINNING=1",
            findsvc,
            {**base, "FINDSVC_CACHE_TTL_S": "600", "FINDSVC_CPU_PINNING": "1"},
            hot=True,
        ),
        Scenario(
            "findsvc_2proc",
            "findsvc FindUser, cache off, 2 processes",
            findsvc,
            {**base, "FINDSVC_PROCESSES": "2"},
        ),
        Scenario(
            "naive",
            "naive reference (comparison baseline, bench/naive_server.py)",
            [
                sys.executable,
                "-m",
                "bench.naive_server",
                "{port}",
                "127.0.0.1",
                str(db_port),
                "glarimy",
            ],
        ),
        Scenario(
            "aio_batching",
            "experiment: grpc.aio, one DB thread batching lookups (bench/aio_batching_server.py)",
            [sys.executable, "-m", "bench.aio_batching_server", "{port}", db_url],
        ),
        Scenario(
            "ceiling",
            f"constant reply, no DB, {workers} threads like findsvc (transport ceiling)",
            [sys.executable, "-m", "bench.constant_server", "{port}"],
        ),
        Scenario(
            "ceiling_pinned",
            f"constant reply, no DB, {workers} threads, kept to one CPU",
            [
                sys.executable,
                "-m",
                "bench.constant_server",
                "{port}",
                str(workers),
                "pinned",
            ],
        ),
        Scenario(
            "ceiling_16",
            "constant reply, no DB, 16 threads like the naive reference",
            [sys.executable, "-m", "bench.constant_server", "{port}", "16"],
        ),
    ]


def seed(server: PrivateMariaDB, users: int) -> list[str]:
    names = [f"BenchUser{i:06d}" for i in range(users)]
    since = datetime(2020, 1, 1)
    connection = pymysql.connect(host="127.0.0.1", port=server.port, user="root", autocommit=True)
    with connection as conn, conn.cursor() as cursor:
        cursor.execute("CREATE DATABASE glarimy")
        cursor.execute("USE glarimy")
        cursor.execute((Path("findsvc/adapters/schema.sql")).read_text())
        for start in range(0, users, 5000):
            cursor.executemany(
                "INSERT INTO ums_users (name, phone, since) VALUES (%s, %s, %s)",
                [
                    (name, 9000000000 + start + i, since)
                    for i, name in enumerate(names[start : start + 5000])
                ],
            )
    return names


def start_server(scenario: Scenario) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINDSVC_")},
        "FINDSVC_HOST": "127.0.0.1",
        "FINDSVC_PORT": str(port),
        "FINDSVC_METRICS_PORT": "0",
        "FINDSVC_DRAIN_S": "0",
        "FINDSVC_GRACE_S": "1",
        **scenario.env,
    }
    command = [part.replace("{port}", str(port)) for part in scenario.command]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    target = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    with grpc.insecure_channel(target) as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        while time.monotonic() < deadline:
            try:
                stub.FindUser(find_service_pb2.FindUserRequest(name="BenchUser000000"), timeout=1)
                return process, target
            except grpc.RpcError:
                time.sleep(0.2)
    process.kill()
    raise SystemExit(f"bench: {scenario.key} did not start")


class Progress:
    """One line on stderr: a bar over all points, redrawn twice a second."""

    def __init__(self, points: int, seconds_each: float) -> None:
        self.total_s = points * seconds_each
        self.seconds_each = seconds_each
        self.done = 0
        self.label = ""
        self.point_started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def point(self, label: str) -> None:
        self.label = label
        self.point_started = time.monotonic()

    def point_done(self) -> None:
        self.done += 1
        self.point_started = float("inf")  # nothing running until the next point starts

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.draw()

    def draw(self) -> None:
        within = max(0.0, min(time.monotonic() - self.point_started, self.seconds_each))
        fraction = min(1.0, (self.done * self.seconds_each + within) / self.total_s)
        bar = "#" * int(fraction * 30)
        sys.stderr.write(f"\r[{bar:<30}] {fraction:4.0%} {self.label:<48}")
        sys.stderr.flush()

    def close(self) -> None:
        self._stop.set()
        self.draw()
        sys.stderr.write("\n")


def main() -> int:
    seconds = float(os.environ.get("BENCH_SECONDS", "2"))
    warmup_s = float(os.environ.get("BENCH_WARMUP_S", "1"))
    levels = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,8,32,64").split(",")]
    users = int(os.environ.get("BENCH_USERS", "100000"))
    load_processes = int(os.environ.get("BENCH_LOAD_PROCESSES", "1"))
    wanted = os.environ.get("BENCH_SCENARIOS")
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))

    load_before = os.getloadavg()
    print(f"bench: starting a private MariaDB with {users:,} users", file=sys.stderr)
    database = PrivateMariaDB()
    database.start()
    try:
        names = seed(database, users)
        chosen = scenarios(database.url, database.port)
        if wanted:
            chosen = [s for s in chosen if s.key in wanted.split(",")]
        results: dict[str, dict[str, dict[str, float]]] = {}
        print(f"bench: the DB path alone, {db_path.THREADS} threads", file=sys.stderr)
        db_path_results = db_path.measure(database.url, names, seconds)
        rest_results = (
            rest.measure(database.url, names, levels, seconds, warmup_s, rounds, load_processes)
            if rest.wanted(wanted)
            else None
        )
        progress = Progress(len(chosen) * len(levels) * rounds, seconds + warmup_s)
        servers = [start_server(scenario) for scenario in chosen]
        try:
            # Round-robin over the scenarios, level by level: background load on this shared
            # machine drifts, and interleaving spreads it over all of them alike.
            for concurrency in levels:
                samples: dict[str, list[Sample]] = {}
                for _ in range(rounds):
                    for scenario, (process, target) in zip(chosen, servers, strict=True):
                        progress.point(f"{scenario.key} at concurrency {concurrency}")
                        pool = names[:HOT_SET] if scenario.hot else names
                        cpu_before = cpu_seconds(process)
                        sample = run_load(
                            target, pool, concurrency, seconds, warmup_s, load_processes
                        )
                        sample.server_cpu_s = cpu_seconds(process) - cpu_before
                        samples.setdefault(scenario.key, []).append(sample)
                        progress.point_done()
                for key, runs in samples.items():
                    results.setdefault(key, {})[str(concurrency)] = summary(median(runs))
        finally:
            for process, _ in servers:
                process.terminate()
                process.wait(timeout=30)
        progress.close()
    finally:
        database.destroy()
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(load_before),
        "settings": {
            "seconds_per_point": seconds,
            "rounds": rounds,
            "warmup_s": warmup_s,
            "users": users,
            "hot_set": HOT_SET,
            "load_generator": f"{load_processes} processes of grpc.aio closed-loop clients",
            "findsvc_env": {k: v for k, v in os.environ.items() if k.startswith("FINDSVC_")},
        },
        "labels": {s.key: s.label for s in chosen},
        "results": results,
        "db_path": db_path_results,
        "rest": rest_results,
    }
    report["machine"]["loadavg_after"] = list(os.getloadavg())
    report["targets"] = targets(results)
    (HERE / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    if rest_results:
        print(rest.table(rest_results))
    plot(report, HERE / "results.png")
    return 0


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """CPU time used by the server and its children (the supervisor's server processes)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [process.pid]
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def median(runs: list[Sample]) -> Sample:
    """The run with the median throughput, its latencies with it."""
    return sorted(runs, key=lambda run: run.calls_per_s)[len(runs) // 2]


def summary(sample: Sample) -> dict[str, float]:
    return {
        "calls_per_s": round(sample.calls_per_s, 1),
        "p50_ms": round(sample.percentile(0.50), 3),
        "p99_ms": round(sample.percentile(0.99), 3),
        "errors": sample.errors,
        "error_codes": sample.error_codes,  # type: ignore[dict-item]
        "calls": sample.calls,
        # Server CPU per call: steadier than calls/s when other work shares the machine.
        "server_cpu_us_per_call": (
            round(sample.server_cpu_s / sample.all_calls * 1e6) if sample.all_calls else None
        ),
    }


def machine(load_before: tuple[float, float, float]) -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "grpcio": version("grpcio"),
        "pymysql": version("PyMySQL"),
        "loadavg_before": list(load_before),
        "note": "load generator, MariaDB and the server share the same cores",
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def targets(results: dict[str, dict[str, dict[str, float]]]) -> dict[str, object]:
    def get(key: str, level: str, metric: str) -> float | None:
        return results.get(key, {}).get(level, {}).get(metric)

    p50_1, naive_p50_1 = get("findsvc", "1", "p50_ms"), get("naive", "1", "p50_ms")
    p99_32, naive_p99_32 = get("findsvc", "32", "p99_ms"), get("naive", "32", "p99_ms")
    # Against the highest of the ceilings: the stricter reading.
    best_ceiling = max(
        get(key, "32", "calls_per_s") or 0 for key in ("ceiling", "ceiling_pinned", "ceiling_16")
    )
    return {
        "c32_findsvc_over_naive (>= 1.5)": _ratio(
            get("findsvc", "32", "calls_per_s"), get("naive", "32", "calls_per_s")
        ),
        "c32_p99_findsvc_ms_vs_naive_ms (lower)": [p99_32, naive_p99_32],
        "c1_p50_findsvc_minus_naive_ms (<= 0.3)": (
            round(p50_1 - naive_p50_1, 3) if p50_1 and naive_p50_1 else None
        ),
        "c32_cache_over_ceiling (>= 0.9)": _ratio(
            get("findsvc_cache", "32", "calls_per_s"),
            best_ceiling,
        ),
        "c32_pinned_over_naive (>= 1.5)": _ratio(
            get("findsvc_pinned", "32", "calls_per_s"), get("naive", "32", "calls_per_s")
        ),
        "c32_cache_pinned_over_ceiling (>= 0.9)": _ratio(
            get("findsvc_cache_pinned", "32", "calls_per_s"),
            best_ceiling,
        ),
        "c32_2proc_over_1proc (>= 1.7)": _ratio(
            get("findsvc_2proc", "32", "calls_per_s"), get("findsvc", "32", "calls_per_s")
        ),
        "c64_2proc_over_1proc (>= 1.7)": _ratio(
            get("findsvc_2proc", "64", "calls_per_s"), get("findsvc", "64", "calls_per_s")
        ),
    }


def table(report: dict) -> str:  # type: ignore[type-arg]
    results = report["results"]
    naive = results.get("naive", {})
    ceiling = results.get("ceiling", {})
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
    lines.append(f"the DB path alone, {db_path.THREADS} threads, no gRPC:")
    lines.extend(f"  {name:<42} {point}" for name, point in report["db_path"].items())
    lines.append("")
    lines.extend(f"{name}: {value}" for name, value in report["targets"].items())
    m = report["machine"]
    lines.append(
        f"machine: {m['cpus']} cpus ({m['cpu']}), load avg before {m['loadavg_before'][0]:.2f},"
        f" after {m['loadavg_after'][0]:.2f}"
    )
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (throughput, p99) = plt.subplots(1, 2, figsize=(12, 4.5))
    for key, levels in report["results"].items():
        xs = [int(level) for level in levels]
        label = report["labels"][key]
        throughput.plot(xs, [p["calls_per_s"] for p in levels.values()], marker="o", label=label)
        p99.plot(xs, [p["p99_ms"] for p in levels.values()], marker="o", label=label)
    for axis, title, unit in ((throughput, "Throughput", "calls/s"), (p99, "p99 latency", "ms")):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("calls in flight (closed loop)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
    throughput.legend(fontsize=7)
    m = report["machine"]
    figure.suptitle(f"findsvc make bench, {m['cpus']} cpus, {report['when']}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    sys.exit(main())
