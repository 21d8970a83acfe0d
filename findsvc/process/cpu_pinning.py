"""FINDSVC_CPU_PINNING: the threads of a server process share one CPU at a time.

Python runs one thread at a time per process (the GIL), yet the scheduler wakes its threads
on any core, so each hand-off of the GIL between gRPC's threads and the workers crosses cores.
Kept to one CPU, they take turns on it, and the other cores are left to the rest of the
machine: on the 2-vCPU bench VM a cached lookup costs 200 us of CPU instead of 336, and the
server answers 1.7x the calls (docs/performance.md).

- auto (the default): each process starts on one CPU (the n-th process on the n-th CPU it may
  use; a lone process where the scheduler has just put it), and a thread of its own checks
  every second how busy each CPU it may use is with other work. When its own CPU is busier by
  MARGIN than the least busy one (a pod next door, the database), it moves every thread of
  the process there: a pinned process never stays stuck on a busy core.
- on (1): the n-th process on the n-th CPU, never moved: for CPUs that are the pod's alone
  (Kubernetes' static CPU manager), where there is no other work to move away from.
- off (0): the scheduler places every thread, as it does any program.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
# How much more of a CPU other work must use on ours than on the least busy CPU before the
# process moves: a move costs warm caches, and noise must not make it wander.
MARGIN = 0.3
# After a move, the loads seen were partly from before it: wait this many checks to judge.
SETTLE_CHECKS = 3
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
_PROC_STAT = Path("/proc/stat")

# Per CPU: (busy, all) ticks since boot.
CpuTicks = Mapping[int, tuple[int, int]]


def pin_to_one_cpu(index: int, where_now: bool = False) -> int:
    """Keeps this process to the `index`-th CPU it may use (wrapping around), or, with
    `where_now`, to the CPU it runs on; returns the CPU. Call it before any thread starts:
    new threads inherit the calling thread's CPUs."""
    allowed = sorted(os.sched_getaffinity(0))
    here = _current_cpu()
    cpu = here if where_now and here in allowed else allowed[index % len(allowed)]
    os.sched_setaffinity(0, {cpu})  # said by the caller once the server is up
    return cpu


def keep_to_one_cpu(mode: str, index: int, processes: int) -> str | None:
    """FINDSVC_CPU_PINNING for the index-th server process; returns what to log once the
    server is up (a start that fails on a config error is one line)."""
    if mode == "on":
        return f"pinned to CPU {pin_to_one_cpu(index)}"
    if mode != "auto":
        return None
    mover = follow_the_quietest_cpu(index, processes)
    if mover is None:
        return "cannot keep to one CPU: the scheduler places the threads"
    return f"pinned to CPU {mover.cpu}, and moved off it should other work keep it busy"


def follow_the_quietest_cpu(index: int, processes: int) -> CpuMover | None:
    """FINDSVC_CPU_PINNING=auto: pins now, then moves off a busy CPU (see the module doc).
    Where the process may not choose its CPUs (a seccomp profile, a sandbox), it runs
    unpinned, as with FINDSVC_CPU_PINNING=0, and returns None."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
        mover = CpuMover(pin_to_one_cpu(index, where_now=processes == 1), allowed)
    except OSError:
        return None
    if len(allowed) > 1:
        threading.Thread(target=mover.run, name="cpu-mover", daemon=True).start()
    return mover


def others_load(before: CpuTicks, after: CpuTicks, cpu: int, own_s: float) -> dict[int, float]:
    """Each CPU's busy share between two readings, without this process's own work (done on
    `cpu`, the one it is kept to)."""
    loads = {}
    for each, (busy_after, all_after) in after.items():
        busy_before, all_before = before.get(each, (busy_after, all_after))
        elapsed = all_after - all_before
        if elapsed <= 0:
            continue
        busy = busy_after - busy_before - (own_s * _TICKS_PER_S if each == cpu else 0)
        loads[each] = max(0.0, busy / elapsed)
    return loads


def quieter_cpu(loads: Mapping[int, float], cpu: int, margin: float = MARGIN) -> int | None:
    """The CPU to move to, if another is less busy than ours by more than the margin."""
    if cpu not in loads:
        return None
    best = min(loads, key=lambda each: (loads[each], each != cpu))
    return best if loads[cpu] - loads[best] > margin else None


class CpuMover:
    def __init__(
        self,
        cpu: int,
        allowed: list[int],
        read_ticks: Callable[[], CpuTicks] | None = None,
        own_cpu_s: Callable[[], float] = time.process_time,
        move: Callable[[int], None] | None = None,
    ) -> None:
        self.cpu = cpu
        self._allowed = set(allowed)
        self._read_ticks = read_ticks or (lambda: cpu_ticks(self._allowed))
        self._own_cpu_s = own_cpu_s
        self._move = move or keep_every_thread_to
        self._settling = 0
        self._last = (self._read_ticks(), self._own_cpu_s())

    def check(self) -> int | None:
        """One look at the loads since the last; returns the CPU moved to, if it moved."""
        ticks, own_s = self._read_ticks(), self._own_cpu_s()
        (before, own_before), self._last = self._last, (ticks, own_s)
        if self._settling:
            self._settling -= 1
            return None
        loads = others_load(before, ticks, self.cpu, own_s - own_before)
        target = quieter_cpu(loads, self.cpu)
        if target is None:
            return None
        log.info(
            "moved from CPU %d to CPU %d: other work used %.0f%% of it, %.0f%% of CPU %d",
            self.cpu,
            target,
            100 * loads[self.cpu],
            100 * loads[target],
            target,
            extra={"cpu": target},
        )
        self._move(target)
        self.cpu = target
        self._settling = SETTLE_CHECKS
        return target

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        while not stop.wait(CHECK_EVERY_S):
            try:
                self.check()
            except OSError:  # /proc unreadable (a hardened sandbox): stay where it is
                log.warning("cannot read the CPUs' load; staying on CPU %d", self.cpu)
                return


def cpu_ticks(cpus: set[int]) -> dict[int, tuple[int, int]]:
    """(busy, all) ticks of each of `cpus` since boot, from /proc/stat."""
    ticks = {}
    for line in _PROC_STAT.read_text().splitlines():
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu":
            continue
        cpu = int(name[3:])
        if cpu in cpus:
            # user nice system idle iowait irq softirq steal (guest time is within user)
            fields = [int(value) for value in rest.split()[:8]]
            idle = fields[3] + fields[4]
            ticks[cpu] = (sum(fields) - idle, sum(fields))
    return ticks


def keep_every_thread_to(cpu: int) -> None:
    """Moves every thread of this process, gRPC's C threads too; new ones inherit it."""
    for task in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(task), {cpu})
        except OSError:  # a thread that ended meanwhile
            continue


def _current_cpu() -> int | None:
    try:  # field 39 of /proc/self/stat, after the command name in parentheses
        return int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[36])
    except (OSError, IndexError, ValueError):
        return None
