"""The machine a run is on, the CPU time a server process used, and which of several rounds a
result reports: what the numbers mean."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

from bench.scenarios import tuning

Round = TypeVar("Round")


def median_round(rounds: list[Round], by: Callable[[Round], float]) -> Round:
    """The round in the middle when sorted `by` (of an even count, the upper of the two);
    the other figures of that round come with it."""
    return sorted(rounds, key=by)[len(rounds) // 2]


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """CPU time used by the process and its children (the supervisor's server processes)."""
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


def header(load_before: tuple[float, float, float], settings: dict[str, Any]) -> dict[str, Any]:
    """A report's first keys: when, on what machine, with which settings and FINDSVC_* tuning."""
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(load_before),
        "settings": {**settings, "findsvc_env": tuning()},
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
