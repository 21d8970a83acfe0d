"""What `make bench` puts under load: findsvc as shipped, its variants, the naive reference, the
aio experiment and the transport ceilings, each a command that serves FindUser on {port}."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from findsvc.config import Settings

HOT_SET = 1000
FINDSVC = [sys.executable, "-m", "findsvc", "serve"]


@dataclass
class Scenario:
    key: str
    label: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    hot: bool = False  # calls ask for the first HOT_SET users only, so a cache can hold them
    variant: bool = False  # from BENCH_VARIANTS


def tuning() -> dict[str, str]:
    """FINDSVC_* variables set by the caller: every findsvc server gets them."""
    return {k: v for k, v in os.environ.items() if k.startswith("FINDSVC_")}


def variants(base: dict[str, str]) -> list[Scenario]:
    """BENCH_VARIANTS="w4:FINDSVC_WORKERS=4;pool1:FINDSVC_DB_POOL_SIZE=1,FINDSVC_WORKERS=8"."""
    return [
        Scenario(
            f"findsvc_{key}",
            f"findsvc FindUser, cache off, {settings}",
            FINDSVC,
            {**base, **dict(pair.split("=", 1) for pair in settings.split(","))},
            variant=True,
        )
        for key, _, settings in (
            variant.partition(":")
            for variant in os.environ.get("BENCH_VARIANTS", "").split(";")
            if variant
        )
    ]


def findsvc_scenarios(shipped: dict[str, str]) -> list[Scenario]:
    """`shipped`: the bench's MariaDB writes a binlog, so findsvc as shipped follows it."""
    base = {**shipped, "FINDSVC_CACHE_MODE": "off"}
    cache = {"FINDSVC_CACHE_MODE": "ttl", "FINDSVC_CACHE_TTL_S": "600"}
    unpinned = {"FINDSVC_CPU_PINNING": "0"}  # what keeping to one CPU (auto) saves
    hot = f"cache on, hot set of {HOT_SET:,}"
    return [
        Scenario("findsvc", "findsvc FindUser, cache off", FINDSVC, base),
        Scenario(
            "findsvc_shipped",
            "findsvc FindUser as shipped (the binlog cache), uniform users",
            FINDSVC,
            shipped,
        ),
        Scenario(
            "findsvc_shipped_hot",
            f"findsvc FindUser as shipped (the binlog cache), hot set of {HOT_SET:,}",
            FINDSVC,
            shipped,
            True,
        ),
        *variants(base),
        Scenario(
            "findsvc_16",
            "findsvc FindUser, cache off, 16 threads (the earlier default)",
            FINDSVC,
            {**base, "FINDSVC_WORKERS": "16"},
        ),
        Scenario("findsvc_cache", f"findsvc FindUser, TTL {hot}", FINDSVC, {**base, **cache}, True),
        Scenario(
            "findsvc_unpinned",
            "findsvc FindUser, cache off, FINDSVC_CPU_PINNING=0",
            FINDSVC,
            {**base, **unpinned},
        ),
        Scenario(
            "findsvc_shipped_hot_unpinned",
            f"findsvc FindUser as shipped, hot set of {HOT_SET:,}, FINDSVC_CPU_PINNING=0",
            FINDSVC,
            {**shipped, **unpinned},
            True,
        ),
        Scenario(
            "findsvc_2proc",
            "findsvc FindUser, cache off, 2 processes",
            FINDSVC,
            {**base, "FINDSVC_PROCESSES": "2"},
        ),
    ]


def module(name: str) -> list[str]:
    """The command that runs a bench server module on {port}."""
    return [sys.executable, "-m", name, "{port}"]


def reference_scenarios(db_url: str, db_port: int) -> list[Scenario]:
    workers = Settings().workers  # findsvc's default, which the ceilings copy
    constant = module("bench.constant_server")
    return [
        Scenario(
            "naive",
            "naive reference (comparison baseline, bench/naive_server.py)",
            [*module("bench.naive_server"), "127.0.0.1", str(db_port), "glarimy"],
        ),
        Scenario(
            "aio_batching",
            "experiment: grpc.aio, one DB thread batching lookups (bench/aio_batching_server.py)",
            [*module("bench.aio_batching_server"), db_url],
        ),
        Scenario(
            "ceiling",
            f"constant reply, no DB, {workers} threads like findsvc (transport ceiling)",
            constant,
        ),
        Scenario(
            "ceiling_pinned",
            f"constant reply, no DB, {workers} threads, kept to one CPU",
            [*constant, str(workers), "pinned"],
        ),
        Scenario(
            "ceiling_16",
            "constant reply, no DB, 16 threads like the naive reference",
            [*constant, "16"],
        ),
    ]


def scenarios(db_url: str, db_port: int) -> list[Scenario]:
    """Every scenario, in the order of the table; BENCH_SCENARIOS picks some by key."""
    base = {"FINDSVC_DB_URL": db_url, **tuning()}
    return [*findsvc_scenarios(base), *reference_scenarios(db_url, db_port)]
