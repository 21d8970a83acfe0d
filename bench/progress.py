"""One line on stderr: a bar over all the points of a run, redrawn twice a second."""

from __future__ import annotations

import sys
import threading
import time


class Progress:
    def __init__(self, points: int, seconds_each: float) -> None:
        self.total_s = points * seconds_each
        self.seconds_each = seconds_each
        self.done = 0
        self.label = ""
        self.point_started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def point(self, label: str) -> None:
        self.label = label
        self.point_started = time.monotonic()

    def point_done(self) -> None:
        self.done += 1
        self.point_started = float("inf")  # nothing running until the next point starts

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.draw()

    def draw(self) -> None:
        within = max(0.0, min(time.monotonic() - self.point_started, self.seconds_each))
        fraction = min(1.0, (self.done * self.seconds_each + within) / self.total_s)
        bar = "#" * int(fraction * 30)
        sys.stderr.write(f"\r[{bar:<30}] {fraction:4.0%} {self.label:<48}")
        sys.stderr.flush()

    def close(self) -> None:
        self._stop.set()
        self.draw()
        sys.stderr.write("\n")
