"""FINDSVC_CPU_PINNING: each server process keeps to one CPU.

Python runs one thread at a time per process (the GIL), yet the scheduler wakes its threads
on any core, so each hand-off of the GIL between gRPC's threads and the workers crosses cores.
Kept to one CPU, they take turns on it, and the other cores are left to the rest of the
machine. Off by default: on a node shared with other pods, a pinned process cannot move off a
busy core. See docs/performance.md for what it saves.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def pin_to_one_cpu(index: int) -> int:
    """Keeps this process to the `index`-th CPU it may use (wrapping around); returns the CPU.

    Call it before any thread starts: new threads inherit the calling thread's CPUs.
    """
    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[index % len(allowed)]
    os.sched_setaffinity(0, {cpu})
    log.info("pinned to CPU %d", cpu, extra={"cpu": cpu})
    return cpu
