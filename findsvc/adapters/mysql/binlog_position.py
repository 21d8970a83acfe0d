"""Where the binlog is, and since when the follower is known to have applied all of it.

The server's position is read (SHOW MASTER STATUS) at a moment on our clock; once the follower
has applied the binlog up to that position, every change committed before that moment has been
told to the cache. A transaction is written to the binlog before it commits in the engine, so
a row a reader can see is always behind a position read after it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pymysql


@dataclass(frozen=True, order=True)
class BinlogPosition:
    file_number: int  # binlog files are numbered: base.000001, base.000002...
    offset: int
    file: str  # the name, to start a dump from; compared only through the number

    @classmethod
    def of(cls, file: str, offset: int) -> BinlogPosition:
        return cls(int(file.rsplit(".", 1)[-1]), offset, file)


def read_position(conn: pymysql.connections.Connection[Any]) -> BinlogPosition | None:
    """The end of the server's binlog; None when it writes none."""
    with conn.cursor() as cursor:
        try:
            cursor.execute("SHOW BINARY LOG STATUS")  # MySQL 8.2 on; older servers and MariaDB:
        except pymysql.err.ProgrammingError:
            cursor.execute("SHOW MASTER STATUS")
        row = cursor.fetchone()
    return None if row is None else BinlogPosition.of(str(row[0]), int(row[1]))


class CatchUp:
    """Thread-safe: the follower tells what it applied, the prober what the server had."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._changed = threading.Condition()
        self._applied: BinlogPosition | None = None  # None: not following
        self._probes: deque[tuple[float, BinlogPosition]] = deque()
        self._caught_up_at = -math.inf
        self.wanted_at = -math.inf  # the latest arrival a caller waits to see covered
        self.probed_at = -math.inf  # when the latest position read began

    def started(self, moment: float, position: BinlogPosition) -> None:
        """Following from `position`, read at `moment`, with nothing known before it."""
        with self._changed:
            self._applied = position
            self._probes.clear()
            self._caught_up_at = moment
            self._changed.notify_all()

    def lost(self) -> None:
        with self._changed:
            self._applied = None
            self._probes.clear()
            self._caught_up_at = -math.inf
            self._changed.notify_all()

    def applied(self, position: BinlogPosition) -> None:
        with self._changed:
            if self._applied is None:
                return
            self._applied = max(self._applied, position)
            while self._probes and self._probes[0][1] <= self._applied:
                self._caught_up_at = max(self._caught_up_at, self._probes.popleft()[0])
            self._changed.notify_all()

    def probed(self, moment: float, position: BinlogPosition) -> None:
        with self._changed:
            if self._applied is None:
                return
            if position <= self._applied:
                self._caught_up_at = max(self._caught_up_at, moment)
                self._changed.notify_all()
            else:
                self._probes.append((moment, position))

    # Asked on every cache hit: one attribute read each, atomic under the GIL, and a reader
    # that races a writer sees the value just before or just after, as with the lock.
    def lag_s(self) -> float:
        """How long ago the newest moment whose changes have all been applied is."""
        return self.clock() - self._caught_up_at

    def following(self) -> bool:
        return self._applied is not None

    def wait_covered(self, moment: float, timeout_s: float) -> bool:
        """Waits until the changes committed before `moment` are applied; False on timeout."""
        with self._changed:
            if self._caught_up_at >= moment:
                return True
            if self._applied is None:
                return False
            self.wanted_at = max(self.wanted_at, moment)
            self._changed.notify_all()  # wakes the prober
            return self._changed.wait_for(
                lambda: self._caught_up_at >= moment or self._applied is None, timeout_s
            ) and (self._caught_up_at >= moment)

    def wait_probe_due(self, every_s: float, stop: threading.Event) -> float:
        """For the prober: returns when a caller waits for a newer read, or `every_s` passed,
        with the moment the read begins."""
        with self._changed:
            self._changed.wait_for(
                lambda: (
                    stop.is_set()
                    or self.wanted_at > self.probed_at
                    or self.clock() - self.probed_at >= every_s
                ),
                timeout=every_s,
            )
            self.probed_at = self.clock()
            return self.probed_at
