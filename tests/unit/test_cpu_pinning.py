"""FINDSVC_CPU_PINNING=auto's choice: the CPU other work leaves most free, and only past a
margin, so that noise does not make a process wander (findsvc/process/cpu_pinning.py)."""

from __future__ import annotations

import os

import pytest

from findsvc.process.cpu_pinning import (
    _TICKS_PER_S,
    MARGIN,
    SETTLE_CHECKS,
    CpuMover,
    CpuTicks,
    follow_the_quietest_cpu,
    keep_to_one_cpu,
    others_load,
    quieter_cpu,
)

SECOND = _TICKS_PER_S


def ticks(*busy: float) -> dict[int, tuple[int, int]]:
    """One second of each CPU, this busy."""
    return {cpu: (round(share * SECOND), SECOND) for cpu, share in enumerate(busy)}


def since_boot(before: CpuTicks, step: CpuTicks) -> dict[int, tuple[int, int]]:
    return {cpu: (before[cpu][0] + step[cpu][0], before[cpu][1] + step[cpu][1]) for cpu in step}


class TestOthersLoad:
    def test_leaves_out_this_process_own_work_on_its_cpu(self) -> None:
        start = ticks(0, 0)
        loads = others_load(start, since_boot(start, ticks(0.9, 0.2)), cpu=0, own_s=0.8)
        assert round(loads[0], 2) == 0.1
        assert round(loads[1], 2) == 0.2

    def test_never_below_zero(self) -> None:
        start = ticks(0, 0)
        assert others_load(start, since_boot(start, ticks(0.5, 0)), cpu=0, own_s=0.9)[0] == 0


class TestQuieterCpu:
    def test_the_least_busy_cpu_once_ours_is_busier_by_the_margin(self) -> None:
        assert quieter_cpu({0: 0.9, 1: 0.5, 2: 0.1}, cpu=0) == 2

    def test_none_within_the_margin(self) -> None:
        assert quieter_cpu({0: 0.1 + MARGIN / 2, 1: 0.1}, cpu=0) is None

    def test_none_when_ours_is_the_least_busy(self) -> None:
        assert quieter_cpu({0: 0.2, 1: 0.9}, cpu=0) is None


class TestCpuMover:
    def test_moves_off_a_busy_cpu_then_lets_the_loads_settle(self) -> None:
        readings = [ticks(0, 0)]
        moves: list[int] = []
        mover = CpuMover(0, [0, 1], lambda: readings[-1], lambda: 0.0, moves.append)
        for _ in range(1 + SETTLE_CHECKS):
            readings.append(since_boot(readings[-1], ticks(1.0, 0.0)))  # other work on CPU 0
            mover.check()
        assert moves == [1]
        assert mover.cpu == 1
        readings.append(since_boot(readings[-1], ticks(0.0, 1.0)))  # it followed us: move on
        assert mover.check() == 0


def test_a_process_that_may_not_choose_its_cpus_runs_unpinned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(_pid: int, _cpus: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setaffinity", refused)
    assert follow_the_quietest_cpu(0, 1) is None
    assert keep_to_one_cpu("auto", 0, 1) == (
        "cannot keep to one CPU: the scheduler places the threads"
    )
