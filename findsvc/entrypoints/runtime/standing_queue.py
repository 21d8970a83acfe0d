"""CoDel's test for a queue that stands, as opposed to one that waited through a hiccup.

A queue that is only passing (a burst, a pause of the whole process for a moment) drains on
its own; shedding calls from it fails callers a moment later served. A standing queue does
not drain: every call waits, and under overload the waits grow past the callers' deadlines.
CoDel tells the two apart by the *minimum* wait over an interval: if even the call that waited
least in the last `interval_s` waited more than `target_s`, the queue stands. (Nichols and
Jacobson, "Controlling Queue Delay", 2012; the same test Facebook's RPC servers shed by.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class StandingQueue:
    """Told each call's wait as it leaves the queue (`left_queue`), answers whether the queue
    stands (`stands`), given how long its oldest call has waited so far."""

    def __init__(
        self,
        target_s: float,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target_s = target_s
        self.interval_s = interval_s
        self._clock = clock
        self._above_since: float | None = None  # since when every call left above target
        self._lock = threading.Lock()

    def left_queue(self, waited_s: float) -> None:
        with self._lock:
            if waited_s <= self.target_s:
                self._above_since = None
            elif self._above_since is None:
                self._above_since = self._clock()

    def stands(self, oldest_waited_s: float | None) -> bool:
        """`oldest_waited_s`: the wait so far of the oldest call still queued; None when the
        queue is empty, which ends any standing queue."""
        with self._lock:
            if oldest_waited_s is None:
                self._above_since = None
                return False
            if oldest_waited_s <= self.target_s:
                return False  # what stood has drained: the oldest call now is a fresh one
            # Queued above target for a whole interval: any call that left meanwhile had
            # come before it, and waited longer still.
            if oldest_waited_s - self.target_s >= self.interval_s:
                return True
            above_since = self._above_since
            return above_since is not None and self._clock() - above_since >= self.interval_s
