"""`python -m bench.fairness` (and `make bench`): one caller floods, another sends a trickle.

findsvc runs with token auth and two named callers. Just before each round its capacity is
measured closed-loop (32 calls in flight, as bench/overload.py does); then, for BENCH_SECONDS,
the `flood` caller offers 3x that capacity open-loop while the `quiet` caller offers
BENCH_QUIET_RATE calls a second (20), each from a raw HTTP/2 generator of its own
(bench/open_loop.py, one process each), every call with a 250 ms deadline. Reported per
round: the share of the quiet caller's calls answered OK within the deadline, the flood's
goodput over the capacity, and the status codes each saw; the report is the round with the
median quiet share. Targets (issue 22): quiet >= 0.99, flood >= 0.8.

Knobs (environment): BENCH_SECONDS (default 6), BENCH_WARMUP_S (1), BENCH_ROUNDS (3),
BENCH_FLOOD_LEVEL (3), BENCH_QUIET_RATE (20), BENCH_USERS (100000); FINDSVC_* go to findsvc.
Writes bench/fairness.json.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.host import header, median_round
from bench.open_loop import OpenLoop
from bench.overload import CONNECTIONS, DEADLINE_S, FIND_USER, REQUESTS, in_own_process
from bench.scenarios import scenarios
from bench.servers import seeded_database, start_server, stop_servers
from glarimy.ums.find.v1.find_service_pb2 import FindUserRequest

RESULTS = Path(__file__).resolve().parent / "fairness.json"
CAPACITY_CONCURRENCY = 32
Metadata = tuple[tuple[str, str], ...]


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


def _capacity(target: str, requests: list[bytes], metadata: Metadata, seconds: float) -> float:
    load = OpenLoop(target, FIND_USER, requests, CONNECTIONS, metadata)
    outcomes = load.closed_loop(CAPACITY_CONCURRENCY, 1 + seconds, 1, DEADLINE_S)
    load.close()
    return (outcomes.codes["OK"] + outcomes.codes["OK_TOO_LATE"]) / seconds


def _offer(
    target: str,
    requests: list[bytes],
    metadata: Metadata,
    rate: float,
    connections: int,
    warmup_s: float,
    seconds: float,
) -> dict[str, Any]:
    load = OpenLoop(target, FIND_USER, requests, connections, metadata)
    outcomes = load.run(rate, warmup_s + seconds, warmup_s, DEADLINE_S)
    load.close()
    return {"codes": dict(outcomes.codes), "ok": len(outcomes.ok_s)}


def _both(target: str, requests: list[bytes], tokens: dict[str, str], capacity: float) -> Any:
    """The flood and the trickle at once, each in a process of its own."""
    seconds = float(os.environ.get("BENCH_SECONDS", "6"))
    warmup_s = float(os.environ.get("BENCH_WARMUP_S", "1"))
    flood_rate = float(os.environ.get("BENCH_FLOOD_LEVEL", "3")) * capacity
    quiet_rate = float(os.environ.get("BENCH_QUIET_RATE", "20"))
    timeout_s = warmup_s + seconds + 60
    offers = {
        "flood": (bearer(tokens["flood"]), flood_rate, CONNECTIONS),
        "quiet": (bearer(tokens["quiet"]), quiet_rate, 1),
    }
    with ThreadPoolExecutor(2) as pool:
        futures = {
            caller: pool.submit(
                in_own_process,
                _offer,
                target,
                requests,
                metadata,
                rate,
                connections,
                warmup_s,
                seconds,
                timeout_s=timeout_s,
            )
            for caller, (metadata, rate, connections) in offers.items()
        }
        results = {caller: future.result() for caller, future in futures.items()}
    quiet, flood = results["quiet"], results["flood"]
    return {
        "capacity_per_s": round(capacity, 1),
        "flood_offered_per_s": round(flood_rate, 1),
        "quiet_offered_per_s": quiet_rate,
        "quiet_ok_share": round(quiet["ok"] / max(1, sum(quiet["codes"].values())), 4),
        "flood_goodput_over_capacity": round(flood["ok"] / seconds / capacity, 3),
        "quiet_codes": quiet["codes"],
        "flood_codes": flood["codes"],
    }


def main() -> int:
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    users = int(os.environ.get("BENCH_USERS", "100000"))
    seconds = float(os.environ.get("BENCH_SECONDS", "6"))
    load_before = os.getloadavg()
    tokens = {caller: secrets.token_urlsafe(24) for caller in ("flood", "quiet")}
    samples: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory() as folder,
        seeded_database(users, "bench fairness") as (database, names),
    ):
        tokens_file = Path(folder) / "tokens"
        tokens_file.write_text("".join(f"{token} {name}\n" for name, token in tokens.items()))
        findsvc = next(s for s in scenarios(database.url, database.port) if s.key == "findsvc")
        auth = {"FINDSVC_AUTH_TOKENS_FILE": str(tokens_file)}
        process, target = start_server(replace(findsvc, env={**findsvc.env, **auth}))
        try:
            picks = random.Random(0).choices(names, k=REQUESTS)
            requests = [FindUserRequest(name=name).SerializeToString() for name in picks]
            for number in range(1, rounds + 1):
                flood = bearer(tokens["flood"])
                capacity = in_own_process(
                    _capacity, target, requests, flood, seconds, timeout_s=seconds + 60
                )
                sample = _both(target, requests, tokens, capacity)
                samples.append(sample)
                print(f"bench fairness: round {number}: {sample}", file=sys.stderr)
        finally:
            stop_servers([process])
    settings = {"seconds": seconds, "rounds": rounds, "users": users, "deadline_s": DEADLINE_S}
    report = {
        **header(load_before, settings),
        "median_round": median_round(samples, by=lambda s: s["quiet_ok_share"]),
        "rounds": samples,
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    median = report["median_round"]
    print(
        f"quiet caller OK within {DEADLINE_S * 1000:.0f} ms: {median['quiet_ok_share']:.2%} "
        f"(target >= 99%); flood goodput: {median['flood_goodput_over_capacity']}x capacity "
        "(target >= 0.8x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
