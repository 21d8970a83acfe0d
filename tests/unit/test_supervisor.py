"""The supervisor's loop in-process: signals queued by the test, children faked by pid."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator

import pytest

from findsvc.config import EXIT_CONFIG, Settings
from findsvc.process.supervisor import Supervisor, serve_processes

FIRST_PID = 1000


class FakeChildren:
    """Children by pid; each exits as told, or on the signals in `exit_on` (signal: code)."""

    def __init__(self) -> None:
        self.exit_on = {signal.SIGTERM: 0, signal.SIGKILL: -signal.SIGKILL}
        self.signals: list[tuple[int, int]] = []
        self.reaped: list[int] = []
        self._exited: dict[int, int] = {}

    def start(self, index: int) -> int:
        return FIRST_PID + index

    def signal(self, pid: int, signum: int) -> None:
        self.signals.append((pid, signum))
        if signum in self.exit_on:
            self._exited.setdefault(pid, self.exit_on[signum])

    def reap(self, pid: int) -> int | None:
        self.reaped.append(pid)
        return self._exited.pop(pid, None)

    def exit(self, pid: int, code: int) -> None:
        self._exited[pid] = code


@pytest.fixture
def children() -> FakeChildren:
    return FakeChildren()


@pytest.fixture
def supervisor(children: FakeChildren) -> Iterator[Supervisor]:
    supervisor = Supervisor(children, count=2)
    supervisor.start_children()
    yield supervisor
    supervisor.close()


BOTH = (FIRST_PID, FIRST_PID + 1)


class TestAStopSignal:
    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
    def test_is_passed_on_as_sigterm_and_all_exiting_0_exits_0(
        self, supervisor: Supervisor, children: FakeChildren, signum: int
    ) -> None:
        supervisor.queue_signal(signum)
        assert supervisor.run() == 0
        assert children.signals == [(pid, signal.SIGTERM) for pid in BOTH]

    def test_is_only_queued_by_the_handler(
        self, supervisor: Supervisor, children: FakeChildren, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        supervisor._on_signal(signal.SIGTERM, None)
        supervisor._on_signal(signal.SIGTERM, None)
        assert (children.signals, caplog.records) == ([], [])
        supervisor.run()  # the loop does the rest
        assert [signum for _, signum in children.signals] == [signal.SIGTERM] * 2 + [
            signal.SIGKILL
        ] * 2

    def test_queued_before_the_children_started_reaches_them(self, children: FakeChildren) -> None:
        supervisor = Supervisor(children, count=2)
        supervisor.queue_signal(signal.SIGTERM)  # while forking
        supervisor.start_children()
        assert supervisor.run() == 0
        assert children.signals == [(pid, signal.SIGTERM) for pid in BOTH]
        supervisor.close()


class TestASecondSignal:
    def test_ends_every_child_at_once(
        self, supervisor: Supervisor, children: FakeChildren, caplog: pytest.LogCaptureFixture
    ) -> None:
        del children.exit_on[signal.SIGTERM]  # a drain that takes its time
        supervisor.queue_signal(signal.SIGTERM)
        supervisor.queue_signal(signal.SIGINT)
        assert supervisor.run() == 1
        assert children.signals[2:] == [(pid, signal.SIGKILL) for pid in BOTH]
        assert "second signal: ending every server process now" in caplog.text


class TestAChildThatExits:
    @pytest.mark.parametrize(
        ("code", "supervisor_code", "how"),
        [
            (-signal.SIGKILL, 1, "was killed by SIGKILL"),
            (2, 2, "exited with 2"),
            (0, 1, "exited with 0"),
        ],
        ids=["killed", "a config error", "unasked, with 0"],
    )
    def test_unasked_takes_the_others_down_and_says_why(
        self,
        supervisor: Supervisor,
        children: FakeChildren,
        caplog: pytest.LogCaptureFixture,
        code: int,
        supervisor_code: int,
        how: str,
    ) -> None:
        children.exit(FIRST_PID, code)
        supervisor.queue_signal(signal.SIGCHLD)
        assert supervisor.run() == supervisor_code
        assert children.signals == [(FIRST_PID + 1, signal.SIGTERM)]
        assert f"server process {FIRST_PID} {how}" in caplog.text

    def test_the_first_failure_decides_the_exit_code(
        self, supervisor: Supervisor, children: FakeChildren
    ) -> None:
        children.exit_on[signal.SIGTERM] = 1
        children.exit(FIRST_PID, 2)
        supervisor.queue_signal(signal.SIGCHLD)
        assert supervisor.run() == 2


class TestReaping:
    def test_only_its_own_children_are_reaped(
        self, supervisor: Supervisor, children: FakeChildren
    ) -> None:
        supervisor.queue_signal(signal.SIGCHLD)  # an orphan's end, which PID 1 is told of
        supervisor.queue_signal(signal.SIGTERM)
        assert supervisor.run() == 0
        assert set(children.reaped) == set(BOTH)

    def test_a_child_that_has_not_exited_is_left_alone(
        self, supervisor: Supervisor, children: FakeChildren
    ) -> None:
        supervisor.handle_child()
        assert supervisor.pids == frozenset(BOTH)
        assert children.signals == []


class TestServeProcesses:
    def test_refuses_port_0_which_processes_cannot_share(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code = serve_processes(Settings(port=0, processes=2), lambda _index: 0)
        assert code == EXIT_CONFIG
        assert capsys.readouterr().err == (
            "findsvc: FINDSVC_PORT=0 cannot be shared by several processes\n"
        )
