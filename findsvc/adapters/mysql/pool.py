"""A bounded pool of reusable connections, for any DB-API driver.

Why not SQLAlchemy's QueuePool or DBUtils' PooledDB: see docs/configuration.md, MySQL. In short,
neither bounds the wait for a connection by each call's own deadline, and both check a
connection with an extra round trip on every checkout, which costs CPU on every call.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


class ConnectionStillGood(Exception):
    """Raised through `connection()`: the use failed, but the server answered and the
    connection is fine. Counted as a failed use, and the connection goes back to the pool."""


@dataclass
class _Idle(Generic[C]):
    conn: C
    since: float  # when it went back to the pool


class ConnectionPool(Generic[C]):
    """At most `size` connections; idle ones are reused newest first (warm, least likely stale).

    A connection idle longer than `max_idle_s` is closed instead of reused: the server, or a
    proxy or load balancer on the way, may have dropped it silently (MySQL's `wait_timeout`).
    `invalidate()` (after a disconnect) makes every connection opened before it unusable.
    """

    def __init__(
        self,
        connect: Callable[[], C],
        size: int,
        observer: PoolObserver | None = None,
        max_idle_s: float = math.inf,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[_Idle[C]] = []  # oldest return first
        self._lock = threading.Lock()
        self._in_use = 0
        self._generation = 0
        self._observer = observer
        self._max_idle_s = max_idle_s
        self._clock = clock
        self.size = size

    @contextmanager
    def connection(self, wait_s: float) -> Iterator[tuple[C, bool]]:
        """Yields (connection, reused). A connection whose use raised is closed, not reused."""
        if not self._slots.acquire(timeout=wait_s):
            raise PoolExhausted
        try:
            with self._lock:
                stale = self._take_stale()
                idle = self._idle.pop() if self._idle else None
                generation = self._generation  # every idle connection is of the current one
                self._in_use += 1
                self._changed()
            _close_all(stale)
            reused = idle is not None
            conn = idle.conn if idle is not None else self._connect()
            started = time.perf_counter()
            try:
                yield conn, reused
            except BaseException as error:
                self._used(started, ok=False)
                if isinstance(error, ConnectionStillGood):
                    self._give_back(conn, generation)
                else:
                    _close_quietly(conn)
                raise
            self._used(started, ok=True)
            self._give_back(conn, generation)
        finally:
            with self._lock:
                self._in_use -= 1
                self._changed()
            self._slots.release()

    def invalidate(self) -> None:
        """A connection was found dead: those opened before may be too (a failover, a proxy
        restart). Idle ones are closed now, busy ones when they come back."""
        with self._lock:
            self._generation += 1
            idle = self._take_idle()
        _close_all(idle)

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def in_use(self) -> int:
        return self._in_use

    def _take_stale(self) -> list[C]:
        # Under the lock. The list is ordered by return time, so the stale ones lead it.
        oldest_kept = self._clock() - self._max_idle_s
        count = 0
        while count < len(self._idle) and self._idle[count].since < oldest_kept:
            count += 1
        stale, self._idle[:count] = [entry.conn for entry in self._idle[:count]], []
        return stale

    def _give_back(self, conn: C, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._idle.append(_Idle(conn, self._clock()))
                return
        _close_quietly(conn)

    def _changed(self) -> None:
        # Called under the lock, so observers never see counts out of order.
        if self._observer is not None:
            self._observer.connections_changed(self._in_use, len(self._idle))

    def _used(self, started: float, ok: bool) -> None:
        if self._observer is not None:
            self._observer.connection_used(time.perf_counter() - started, ok)

    def close(self) -> None:
        with self._lock:
            idle = self._take_idle()
        _close_all(idle)

    def _take_idle(self) -> list[C]:
        # Under the lock.
        idle, self._idle = self._idle, []
        self._changed()
        return [entry.conn for entry in idle]


def _close_all(conns: Iterable[Closeable]) -> None:
    for conn in conns:
        _close_quietly(conn)


def _close_quietly(conn: Closeable) -> None:
    # A broken connection may fail to close; it is gone either way.
    with contextlib.suppress(Exception):
        conn.close()
