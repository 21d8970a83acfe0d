"""SharedDir: a temp dir that the last of the processes holding it removes."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from findsvc.process.child_process import SharedDir


@contextmanager
def held_elsewhere(shared: SharedDir) -> Iterator[None]:
    """A hold as another process has it: a shared flock on a descriptor of its own."""
    fd = os.open(shared.path / SharedDir.LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


class TestSharedDir:
    def test_the_last_to_leave_removes_it(self) -> None:
        shared = SharedDir(prefix="findsvc-test-")
        assert shared.path.is_dir()
        shared.leave()
        assert not shared.path.exists()

    def test_one_that_leaves_while_another_holds_it_leaves_it_there(self) -> None:
        shared = SharedDir(prefix="findsvc-test-")
        with held_elsewhere(shared):
            shared.leave()
            assert shared.path.is_dir()
        (shared.path / SharedDir.LOCK_NAME).unlink()
        shared.path.rmdir()

    def test_leaving_twice_is_leaving_once(self) -> None:
        shared = SharedDir(prefix="findsvc-test-")
        shared.leave()
        shared.leave()
        assert not shared.path.exists()
