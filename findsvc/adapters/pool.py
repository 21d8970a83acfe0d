"""A bounded pool of reusable connections, for any DB-API driver."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar


class Closeable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closeable)


class PoolExhausted(Exception):
    """Every connection stayed busy for the whole wait."""


class ConnectionPool(Generic[C]):
    """At most `size` connections; idle ones are reused newest first (warm, least likely stale)."""

    def __init__(self, connect: Callable[[], C], size: int) -> None:
        self._connect = connect
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[C] = []
        self._lock = threading.Lock()
        self.size = size

    @contextmanager
    def connection(self, wait_s: float) -> Iterator[tuple[C, bool]]:
        """Yields (connection, reused). A connection whose use raised is closed, not reused."""
        if not self._slots.acquire(timeout=wait_s):
            raise PoolExhausted
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            reused = conn is not None
            if conn is None:
                conn = self._connect()
            try:
                yield conn, reused
            except BaseException:
                _close_quietly(conn)
                raise
            with self._lock:
                self._idle.append(conn)
        finally:
            self._slots.release()

    @property
    def idle(self) -> int:
        return len(self._idle)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)


def _close_quietly(conn: Closeable) -> None:
    # A broken connection may fail to close; it is gone either way.
    with contextlib.suppress(Exception):
        conn.close()
