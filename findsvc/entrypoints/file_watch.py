"""Files watched for a change, so tokens and certificates rotate without a restart.

A file counts as changed when its inode, mtime or size does: a Kubernetes Secret update
swaps a symlink (a new inode), an edit in place changes the mtime or the size.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

Stamp = tuple[tuple[int, int, int], ...]


class FileWatch:
    """Raises OSError, here and in `changed`, when a file cannot be read."""

    def __init__(self, *paths: Path, every_s: float = 0.0) -> None:
        self._paths = paths
        self._every_s = every_s
        self._lock = threading.Lock()
        self.stamp = self._stamps()
        self._checked_at = time.monotonic()

    def changed(self) -> bool:
        """True once for each change: the next call says False until the files change again.

        Looks at most once every `every_s`, and says False while another thread looks.
        """
        now = time.monotonic()
        if now - self._checked_at < self._every_s or not self._lock.acquire(blocking=False):
            return False
        try:
            self._checked_at = now
            stamp = self._stamps()
            if stamp == self.stamp:
                return False
            self.stamp = stamp
            return True
        finally:
            self._lock.release()

    def _stamps(self) -> Stamp:
        stats = [os.stat(path) for path in self._paths]
        return tuple((stat.st_ino, stat.st_mtime_ns, stat.st_size) for stat in stats)
