"""REST, gRPC-Web and Connect through Envoy beside direct gRPC: the same lookups against one
findsvc, either called directly over gRPC or over HTTP/1.1 through the repo's envoy/envoy.yaml
as `GET /user/{name}` (the gRPC-JSON transcoder), a binary gRPC-Web POST (the grpc_web filter)
or a Connect JSON POST (transcoded, docs/browsers.md). Alternating rounds, so background load
hits every way alike.

Reports calls/s, p50 and p99 for each, findsvc's CPU per call for each, and Envoy's CPU per
call; bench/report.py prints them. BENCH_SCENARIOS selects it as `rest`; BENCH_ENVOY_CONCURRENCY
sets Envoy's worker threads (1: the machine has 2 cores, shared with findsvc, MariaDB and the load).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import sys
import time
import urllib.parse

import aiohttp

from bench.host import cpu_seconds, median_round
from devkit.envoy import EnvoyProcess
from devkit.grpc_web import framed
from devkit.load import Sample, Tally, run_load
from devkit.server import ServerProcess
from glarimy.ums.find.v1 import find_service_pb2

KEY = "rest"
FIND_USER = "/glarimy.ums.find.v1.FindService/FindUser"
# One HTTP request per name for each way through Envoy: method, path, body, headers.
Request = tuple[str, str, bytes | None, dict[str, str]]


def _rest(name: str) -> Request:
    return "GET", f"/user/{urllib.parse.quote(name, safe='')}", None, {}


def _grpc_web(name: str) -> Request:
    frame = framed(find_service_pb2.FindUserRequest(name=name))
    headers = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1"}
    return "POST", FIND_USER, frame, headers


def _connect(name: str) -> Request:
    body = json.dumps({"name": name}).encode()
    headers = {"content-type": "application/json", "connect-protocol-version": "1"}
    return "POST", FIND_USER, body, headers


HTTP_WAYS = {"rest": _rest, "grpc-web": _grpc_web, "connect": _connect}


def _failure(status: int, headers: object, body: bytes) -> str | None:
    """Why an answer is not a found user, or None. gRPC-Web says so in a trailer frame (or,
    trailers-only, in the headers), with HTTP 200 either way."""
    if status != 200:
        return f"HTTP {status}"
    grpc_status = getattr(headers, "get", lambda _: None)("grpc-status")
    if grpc_status not in (None, "0"):
        return f"grpc-status {grpc_status}"
    return None


def wanted(scenarios: str | None) -> bool:
    return not scenarios or KEY in scenarios.split(",")


async def _drive(
    way: str, port: int, names: list[str], workers: int, warmup_s: float, seconds: float
) -> tuple[int, int, list[float], dict[str, int], int]:
    requests = [HTTP_WAYS[way](name) for name in names]
    # One keep-alive connection per worker, as a closed-loop REST caller has.
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(
        f"http://127.0.0.1:{port}", connector=connector, timeout=aiohttp.ClientTimeout(total=5)
    ) as session:
        method, path, body, headers = requests[0]
        async with session.request(method, path, data=body, headers=headers) as reply:
            await reply.read()  # connect before the clock starts
        start = time.perf_counter()
        tally = Tally(start + warmup_s, start + warmup_s + seconds)

        async def worker() -> None:
            rng = random.Random()
            while (sent := time.perf_counter()) < tally.end:
                code = None
                method, path, body, headers = rng.choice(requests)
                try:
                    async with session.request(method, path, data=body, headers=headers) as reply:
                        answer = await reply.read()
                        code = _failure(reply.status, reply.headers, answer)
                except (aiohttp.ClientError, TimeoutError) as error:
                    code = type(error).__name__
                tally.add(sent, time.perf_counter(), code)

        await asyncio.gather(*(worker() for _ in range(workers)))
    return tally.result()


def _process(
    args: tuple[str, int, list[str], int, float, float],
    out: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    out.put(asyncio.run(_drive(*args)))


def run_http_load(
    way: str, port: int, names: list[str], concurrency: int, seconds: float, warmup_s: float
) -> Sample:
    """Closed-loop HTTP/1.1 load in a process of its own, like devkit.load's gRPC load."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(
        target=_process, args=((way, port, names, concurrency, warmup_s, seconds), out)
    )
    process.start()
    calls, errors, latencies, codes, all_calls = out.get(timeout=seconds + warmup_s + 60)
    process.join()
    return Sample(calls, errors, seconds, latencies, codes, all_calls=all_calls)


def _point(sample: Sample, findsvc_cpu_s: float, envoy_cpu_s: float | None) -> dict[str, object]:
    return {
        **sample.point(),
        "findsvc_cpu_us_per_call": sample.cpu_us_per_call(findsvc_cpu_s),
        "envoy_cpu_us_per_call": None
        if envoy_cpu_s is None
        else sample.cpu_us_per_call(envoy_cpu_s),
    }


def measure(
    db_url: str,
    names: list[str],
    levels: list[int],
    seconds: float,
    warmup_s: float,
    rounds: int,
    load_processes: int,
) -> dict[str, dict[str, dict[str, object]]]:
    """{"grpc" | "rest" | "grpc-web" | "connect": {concurrency: point}}: the median round of
    each."""
    tuning = {k: v for k, v in os.environ.items() if k.startswith("FINDSVC_")}
    server = ServerProcess({"FINDSVC_DB_URL": db_url, "FINDSVC_GRACE_S": "1", **tuning})
    envoy = None
    results: dict[str, dict[str, dict[str, object]]] = {"grpc": {}, **{w: {} for w in HTTP_WAYS}}
    try:
        server.wait_health(timeout_s=60)
        envoy = EnvoyProcess(server.port, int(os.environ.get("BENCH_ENVOY_CONCURRENCY", "1")))
        envoy.wait_ready()
        for concurrency in levels:
            print(f"bench: gRPC and through Envoy at concurrency {concurrency}", file=sys.stderr)
            runs: dict[str, list[tuple[Sample, float, float | None]]] = {w: [] for w in results}
            for _ in range(rounds):
                before = cpu_seconds(server.process)
                sample = run_load(
                    server.target, names, concurrency, seconds, warmup_s, load_processes
                )
                runs["grpc"].append((sample, cpu_seconds(server.process) - before, None))
                for way in HTTP_WAYS:
                    before = cpu_seconds(server.process)
                    envoy_before = cpu_seconds(envoy.process)
                    sample = run_http_load(way, envoy.port, names, concurrency, seconds, warmup_s)
                    runs[way].append(
                        (
                            sample,
                            cpu_seconds(server.process) - before,
                            cpu_seconds(envoy.process) - envoy_before,
                        )
                    )
            for way, samples in runs.items():
                median = median_round(samples, by=lambda run: run[0].calls_per_s)
                results[way][str(concurrency)] = _point(*median)
    finally:
        if envoy is not None:
            envoy.close()
        server.close()
    return results
