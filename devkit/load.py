"""The closed-loop load generator: asyncio gRPC clients in several processes.

Each process runs one event loop with its share of the in-flight calls (grpc.aio: a call costs
the client little CPU), over a few connections of its own so that SO_REUSEPORT can spread them
over server processes. A worker sends its next call as soon as the last one is answered.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
from dataclasses import dataclass, field
from typing import Any

import grpc

from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc


@dataclass
class Sample:
    calls: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    error_codes: dict[str, int]
    all_calls: int = 0  # warm-up included: what the server's CPU time is divided by
    server_cpu_s: float = 0.0

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def point(self) -> dict[str, Any]:
        """What a report keeps of a sample."""
        return {
            "calls_per_s": round(self.calls_per_s, 1),
            "p50_ms": round(self.percentile(0.50), 3),
            "p99_ms": round(self.percentile(0.99), 3),
            "errors": self.errors,
            "error_codes": self.error_codes,
        }

    def cpu_us_per_call(self, cpu_s: float) -> int | None:
        """A process's CPU time over the calls, warm-up included, as the time was taken."""
        return round(cpu_s / self.all_calls * 1e6) if self.all_calls else None


@dataclass
class Tally:
    """What one load process's workers count: calls inside the measured window, all calls."""

    measure_from: float
    end: float
    calls: int = 0
    errors: int = 0
    all_calls: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)

    def add(self, sent: float, done: float, code: str | None) -> None:
        self.all_calls += 1
        if sent >= self.measure_from and done <= self.end:
            self.calls += 1
            self.latencies_ms.append((done - sent) * 1000)
            if code is not None:
                self.errors += 1
                self.codes[code] = self.codes.get(code, 0) + 1

    def result(self) -> tuple[int, int, list[float], dict[str, int], int]:
        return self.calls, self.errors, self.latencies_ms, self.codes, self.all_calls


async def _drive(
    target: str, names: list[str], workers: int, connections: int, warmup_s: float, seconds: float
) -> tuple[int, int, list[float], dict[str, int], int]:
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(target, options=options) for _ in range(connections)]
    # Any: the generated stubs are typed for the blocking API, these are grpc.aio's.
    stubs: list[Any] = [find_service_pb2_grpc.FindServiceStub(channel) for channel in channels]
    # Built once, before the clock starts: building them per worker took seconds at 100k names.
    requests = [find_service_pb2.FindUserRequest(name=name) for name in names]
    for stub in stubs:  # connect before the clock starts
        await stub.FindUser(find_service_pb2.FindUserRequest(name=names[0]), timeout=10)
    start = time.perf_counter()
    tally = Tally(start + warmup_s, start + warmup_s + seconds)

    async def worker(stub: Any) -> None:
        rng = random.Random()
        while True:
            sent = time.perf_counter()
            if sent >= tally.end:
                return
            code = None
            try:
                await stub.FindUser(rng.choice(requests), timeout=5)
            except grpc.aio.AioRpcError as error:
                code = error.code().name
            tally.add(sent, time.perf_counter(), code)

    await asyncio.gather(*(worker(stubs[i % len(stubs)]) for i in range(workers)))
    for channel in channels:
        await channel.close(None)
    return tally.result()


def _process(
    args: tuple[str, list[str], int, int, float, float], out: multiprocessing.Queue[Any]
) -> None:
    out.put(asyncio.run(_drive(*args)))


def run_load(
    target: str,
    names: list[str],
    concurrency: int,
    seconds: float,
    warmup_s: float = 1.0,
    processes: int = 2,
) -> Sample:
    processes = max(1, min(processes, concurrency))
    shares = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    started = [
        context.Process(
            target=_process,
            args=((target, names, share, min(share, 4), warmup_s, seconds), out),
        )
        for share in shares
    ]
    for process in started:
        process.start()
    results = [out.get(timeout=seconds + warmup_s + 60) for _ in started]
    for process in started:
        process.join()
    codes: dict[str, int] = {}
    for *_, part_codes, _ in results:
        for code, count in part_codes.items():
            codes[code] = codes.get(code, 0) + count
    return Sample(
        calls=sum(result[0] for result in results),
        errors=sum(result[1] for result in results),
        seconds=seconds,
        latencies_ms=[latency for result in results for latency in result[2]],
        error_codes=codes,
        all_calls=sum(result[4] for result in results),
    )
