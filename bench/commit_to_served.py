"""Commit-to-served: how long after an AddService commit findsvc serves the change, as shipped
against a MariaDB writing a row-based binlog (so its cache follows the binlog), under load.

Threads keep looking up a hot set; a writer changes one hot user's phone at a time, at a
trickle, and right after each commit polls FindUser until the new phone is served. The time
from the commit's return to the first answer with the new phone is one sample; the poll's own
round trip is part of it.

Knobs (environment): BENCH_CHANGES (300), BENCH_LOAD_THREADS (8), BENCH_HOT (1000),
BENCH_WRITES_PER_S (20). Prints p50, p99 and the worst, in ms, as JSON.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time

import grpc
import pymysql

from bench.scenarios import FINDSVC, Scenario
from bench.servers import seeded_database, start_server, stop_servers
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc


def _phone(stub: find_service_pb2_grpc.FindServiceStub, name: str) -> int | None:
    """None for a failed call (under overload the server sheds some): counted, not fatal."""
    try:
        return int(stub.FindUser(find_service_pb2.FindUserRequest(name=name), timeout=5).phone)
    except grpc.RpcError:
        return None


def _load(target: str, names: list[str], stop: threading.Event, calls: list[int]) -> None:
    with grpc.insecure_channel(target) as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        done = 0
        while not stop.is_set():
            _phone(stub, random.choice(names))
            done += 1
        calls.append(done)


def _changes(target: str, port: int, names: list[str], count: int, per_s: float) -> list[float]:
    """Milliseconds from each commit to the first answer with its new phone."""
    samples = []
    connection = pymysql.connect(
        host="127.0.0.1", port=port, user="root", database="glarimy", autocommit=True
    )
    with connection as conn, conn.cursor() as cursor, grpc.insecure_channel(target) as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        for i in range(count):
            began = time.perf_counter()
            name, phone = names[i % len(names)], 9100000000 + i
            cursor.execute("UPDATE ums_users SET phone = %s WHERE name = %s", (phone, name))
            committed = time.perf_counter()
            while _phone(stub, name) != phone:
                pass
            samples.append((time.perf_counter() - committed) * 1000)
            time.sleep(max(0.0, 1 / per_s - (time.perf_counter() - began)))
    return samples


def main() -> int:
    changes = int(os.environ.get("BENCH_CHANGES", "300"))
    threads = int(os.environ.get("BENCH_LOAD_THREADS", "8"))
    hot = int(os.environ.get("BENCH_HOT", "1000"))
    per_s = float(os.environ.get("BENCH_WRITES_PER_S", "20"))
    load_before = os.getloadavg()
    with seeded_database(hot, "commit-to-served", binlog=True) as (database, names):
        shipped = Scenario(
            "findsvc", "findsvc as shipped", FINDSVC, {"FINDSVC_DB_URL": database.url}
        )
        process, target = start_server(shipped)
        stop = threading.Event()
        calls: list[int] = []
        loaders = [
            threading.Thread(target=_load, args=(target, names, stop, calls))
            for _ in range(threads)
        ]
        try:
            for loader in loaders:
                loader.start()
            started = time.perf_counter()
            samples = sorted(_changes(target, database.port, names, changes, per_s))
            seconds = time.perf_counter() - started
        finally:
            stop.set()
            for loader in loaders:
                loader.join(30)
            stop_servers([process])
    print(
        json.dumps(
            {
                "changes": len(samples),
                "load_threads": threads,
                "hot_set": hot,
                "lookups_per_s": round(sum(calls) / seconds),
                "loadavg_before_after": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
                "commit_to_served_ms": {
                    "p50": round(samples[len(samples) // 2], 2),
                    "p99": round(samples[min(len(samples) - 1, int(0.99 * len(samples)))], 2),
                    "max": round(samples[-1], 2),
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
