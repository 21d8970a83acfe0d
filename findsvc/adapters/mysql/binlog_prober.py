"""Reads the server's binlog position for the follower's CatchUp: at least every quarter of
the max lag, and whenever a caller waits for a read newer than the last one. It also tells
when the follower falls behind the max lag."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, Protocol

import pymysql

from findsvc.adapters.mysql.binlog_position import CatchUp, read_position
from findsvc.adapters.mysql.errors import describe


class LagObserver(Protocol):
    def follower_lag(self, seconds: float) -> None: ...


class Prober:
    def __init__(
        self,
        connect: Callable[[], pymysql.connections.Connection[Any]],
        catch_up: CatchUp,
        max_lag_s: float,
        behind: Callable[[str], None],
        observer: LagObserver | None = None,
    ) -> None:
        self._connect = connect
        self._catch_up = catch_up
        self._max_lag_s = max_lag_s
        self._every_s = max_lag_s / 4
        self._behind = behind  # told why, when the follower is too far behind or unseen
        self._observer = observer

    def run(self, stop: threading.Event) -> None:
        conn: pymysql.connections.Connection[Any] | None = None
        while not stop.is_set():
            moment = self._catch_up.wait_probe_due(self._every_s, stop)
            if stop.is_set():
                break
            try:
                conn = conn or self._connect()
                position = read_position(conn)
            except Exception as error:  # noqa: BLE001 - the lag grows until it is back
                _close(conn)
                conn = None
                self._check_lag(f"cannot read the binlog position: {describe(error)}")
                stop.wait(self._every_s)
                continue
            if position is not None:
                self._catch_up.probed(moment, position)
            self._check_lag(f"behind by more than FINDSVC_CACHE_MAX_LAG_S ({self._max_lag_s} s)")
        _close(conn)

    def _check_lag(self, why: str) -> None:
        if not self._catch_up.following():
            return
        lag_s = self._catch_up.lag_s()
        if self._observer is not None:
            self._observer.follower_lag(lag_s)
        if lag_s > self._max_lag_s:
            self._behind(why)


def _close(conn: pymysql.connections.Connection[Any] | None) -> None:
    if conn is not None:
        with contextlib.suppress(pymysql.err.Error):
            conn.close()
