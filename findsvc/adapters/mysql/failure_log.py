"""One log line when a kind of database failure starts and one when it ends, with a count.

A health check every few seconds against a locked table, a hung resolver or a renamed column
fails the same way each time: the operator needs to know that it started, what it is, and
when and after how many failures it stopped, not one line per check.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("findsvc.adapters.mysql")


class FailureLog:
    """`role` names the server in the lines: "database", or which replica."""

    def __init__(self, role: str = "database") -> None:
        self._role = role
        self._current: str | None = None
        self._count = 0
        self._lock = threading.Lock()

    def failed(self, description: str) -> None:
        with self._lock:
            if description == self._current:
                self._count += 1
                return
            ended, count = self._current, self._count
            self._current, self._count = description, 1
        if ended is not None:
            _log_end(self._role, ended, count)
        log.warning("%s unavailable: %s", self._role, description)

    def succeeded(self) -> None:
        if self._current is None:  # the common case, without the lock
            return
        with self._lock:
            ended, count = self._current, self._count
            self._current, self._count = None, 0
        if ended is not None:
            _log_end(self._role, ended, count)


def _log_end(role: str, description: str, count: int) -> None:
    log.info(
        "%s failure ended after %d failed attempts: %s",
        role,
        count,
        description,
        extra={"failures": count},
    )
