"""A bounded pool of reusable connections, for any DB-API driver."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar


class Closeable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closeable)


class PoolObserver(Protocol):
    """Told about the pool's use, e.g. by metrics, without the pool knowing who listens."""

    def connections_changed(self, in_use: int, idle: int) -> None: ...

    def connection_used(self, seconds: float, ok: bool) -> None: ...


class PoolExhausted(Exception):
    """Every connection stayed busy for the whole wait."""


class ConnectionPool(Generic[C]):
    """At most `size` connections; idle ones are reused newest first (warm, least likely stale)."""

    def __init__(
        self, connect: Callable[[], C], size: int, observer: PoolObserver | None = None
    ) -> None:
        self._connect = connect
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[C] = []
        self._lock = threading.Lock()
        self._in_use = 0
        self._observer = observer
        self.size = size

    @contextmanager
    def connection(self, wait_s: float) -> Iterator[tuple[C, bool]]:
        """Yields (connection, reused). A connection whose use raised is closed, not reused."""
        if not self._slots.acquire(timeout=wait_s):
            raise PoolExhausted
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
                self._in_use += 1
                self._changed()
            reused = conn is not None
            if conn is None:
                conn = self._connect()
            started = time.perf_counter()
            try:
                yield conn, reused
            except BaseException:
                self._used(started, ok=False)
                _close_quietly(conn)
                raise
            self._used(started, ok=True)
            with self._lock:
                self._idle.append(conn)
        finally:
            with self._lock:
                self._in_use -= 1
                self._changed()
            self._slots.release()

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def in_use(self) -> int:
        return self._in_use

    def _changed(self) -> None:
        # Called under the lock, so observers never see counts out of order.
        if self._observer is not None:
            self._observer.connections_changed(self._in_use, len(self._idle))

    def _used(self, started: float, ok: bool) -> None:
        if self._observer is not None:
            self._observer.connection_used(time.perf_counter() - started, ok)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._changed()
        for conn in idle:
            _close_quietly(conn)


def _close_quietly(conn: Closeable) -> None:
    # A broken connection may fail to close; it is gone either way.
    with contextlib.suppress(Exception):
        conn.close()
