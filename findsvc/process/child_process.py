"""What a server process forked by the supervisor does so that it never outlives it.

- The kernel sends it SIGTERM when the supervisor dies, even by SIGKILL (PR_SET_PDEATHSIG),
  so it drains and frees the port rather than serve on beside a new supervisor's children.
- The metrics dir is shared by the supervisor and its children, and removed by whichever of
  them leaves last: each holds a shared flock on a file in it, and one that leaves and then
  gets the lock exclusively knows it was the last. The kernel drops a dead process's lock,
  so a supervisor killed by SIGKILL leaves the removal to its last child.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


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
