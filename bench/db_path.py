"""The DB path alone, no gRPC: 16 threads looking up random users, as a server's workers would.

Compares the naive reference's way (a PyMySQL connection per thread), findsvc's pool without
coalescing, and findsvc's coalescing with 1, 2 and 4 queries in flight. Reports lookups/s and
the process's CPU per lookup, which is what the GIL makes scarce.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pymysql

from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.config import parse_database_url
from findsvc.domain.model import Name
from findsvc.policies.coalescing import CoalescingRepository

THREADS = 16


def _measure(get: Callable[[Name], Any], names: list[str], seconds: float) -> dict[str, float]:
    stop = time.perf_counter() + seconds
    counts = [0] * THREADS

    def work(index: int) -> None:
        rng = random.Random(index)
        done = 0
        while time.perf_counter() < stop:
            get(Name(rng.choice(names)))
            done += 1
        counts[index] = done

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    cpu, wall = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    lookups = sum(counts)
    return {
        "lookups_per_s": round(lookups / wall),
        "cpu_us_per_lookup": round(cpu / lookups * 1e6, 1),
    }


def measure(db_url: str, names: list[str], seconds: float) -> dict[str, dict[str, float]]:
    url = parse_database_url(db_url)
    local = threading.local()

    def naive_get(name: Name) -> Any:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = pymysql.connect(
                host=url.host, port=url.port, user=url.user, database=url.database, autocommit=True
            )
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT name, phone, since FROM ums_users WHERE name = %s LIMIT 1", (name.value,)
            )
            return cursor.fetchone()

    results = {"naive: a connection per thread": _measure(naive_get, names, seconds)}
    direct = MySqlUserRepository(url, None, THREADS, 2.0, 5.0)
    results[f"findsvc pool of {THREADS}, no coalescing"] = _measure(direct.get, names, seconds)
    direct.close()
    for in_flight in (1, 2, 4):
        store = MySqlUserRepository(url, None, in_flight, 2.0, 5.0)
        coalescing = CoalescingRepository(store, max_in_flight=in_flight, cap_s=5.0)
        point = _measure(coalescing.get, names, seconds)
        point["mean_batch"] = round(coalescing.coalesced / max(coalescing.batches, 1), 1)
        results[f"findsvc coalescing, {in_flight} in flight"] = point
        store.close()
    return results
