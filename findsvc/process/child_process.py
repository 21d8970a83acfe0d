"""The supervisor's children: forking them, signalling and reaping them, and what each does
so that it never outlives the supervisor.

- The kernel sends it SIGTERM when the supervisor dies, even by SIGKILL (PR_SET_PDEATHSIG),
  so it drains and frees the port rather than serve on beside a new supervisor's children.
- The metrics dir is shared by the supervisor and its children, and removed by whichever of
  them leaves last: each holds a shared flock on a file in it, and one that leaves and then
  gets the lock exclusively knows it was the last. The kernel drops a dead process's lock,
  so a supervisor killed by SIGKILL leaves the removal to its last child.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class ForkedChildren:
    """Server processes forked from this one, each running serve_one(index) until it exits.

    Only pids this object forked are signalled or reaped (waitpid on each): as PID 1 in a
    container, the supervisor also inherits every orphan there, none of them its own.
    """

    def __init__(
        self,
        serve_one: Callable[[int], int],
        metrics_dir: SharedDir | None,
        reset_signals: Iterable[int],
    ) -> None:
        self._serve_one = serve_one
        self._metrics_dir = metrics_dir
        self._reset_signals = tuple(reset_signals)
        self._supervisor_pid = os.getpid()

    def start(self, index: int) -> int:
        pid = os.fork()
        if pid == 0:  # the child: serve, then leave without running the parent's cleanup
            self._run_child(index)
        return pid

    def signal(self, pid: int, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # already gone: reap() will tell
            os.kill(pid, signum)

    def reap(self, pid: int) -> int | None:
        """The exit code (minus the signal that killed it) once `pid` has ended, else None."""
        try:
            reaped, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped already, by no one of ours: nothing to tell
            return 1
        if reaped == 0:
            return None
        _forget_metrics_of(pid)
        return os.waitstatus_to_exitcode(status)

    def _run_child(self, index: int) -> None:
        signal.set_wakeup_fd(-1)
        for signum in self._reset_signals:
            signal.signal(signum, signal.SIG_DFL)
        code = 1
        try:
            if self._metrics_dir is not None:
                self._metrics_dir.join()
            die_with_parent(self._supervisor_pid)
            code = self._serve_one(index)
        except BaseException as error:  # noqa: BLE001 - one line, then the supervisor takes over
            # The type only: an exception's message can carry data.
            log.critical(
                "server process %d failed: %s",
                index,
                type(error).__name__,
                extra={"error": type(error).__name__},
            )
        finally:
            if self._metrics_dir is not None:
                self._metrics_dir.leave()
            logging.shutdown()
            sys.stdout.flush()
            os._exit(code)


def _forget_metrics_of(pid: int) -> None:
    """A dead child's live gauges (connections in use, say) must not count any more."""
    # Imported here: prometheus-client must first be imported after the metrics dir is set.
    from prometheus_client import multiprocess

    with contextlib.suppress(OSError):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def die_with_parent(parent_pid: int) -> None:
    """SIGTERM to this process when its parent dies. Raises OSError if the parent is gone."""
    if sys.platform.startswith("linux"):  # prctl is Linux's; elsewhere, only the check below
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # it died before the prctl: no signal will come
        raise OSError("the supervisor is gone")


class SharedDir:
    """A temp dir that the last of the processes sharing it removes."""

    LOCK_NAME = ".in-use"
    LAST_HOLDER_WAIT_S = 0.3

    def __init__(self, prefix: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self._fd: int | None = None
        self.join()

    def join(self) -> None:
        """In this process; after a fork, the child's own hold (a flock held through an
        inherited descriptor would be the parent's)."""
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path / self.LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def leave(self) -> None:
        """Lets go; removes the dir if no other process holds it."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
            # Whoever lets go last finds nobody holding it; two at once may both succeed.
            if not _lock_exclusively(fd, self.LAST_HOLDER_WAIT_S):
                return  # another process still holds it
        finally:
            os.close(fd)
        shutil.rmtree(self.path, ignore_errors=True)


def _lock_exclusively(fd: int, wait_s: float) -> bool:
    """Tries for wait_s: a supervisor killed by SIGKILL signals its children as its main
    thread ends, while its other threads may hold its files, and so the lock, a moment
    longer."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
