"""The prober tells when the follower falls behind the max lag: its position reads show the
server ahead, or it cannot read the position at all."""

from __future__ import annotations

import threading
from typing import Any

import pymysql

from findsvc.adapters.mysql.binlog_position import BinlogPosition, CatchUp
from findsvc.adapters.mysql.binlog_prober import Prober
from tests.support.load import wait_for

MAX_LAG_S = 0.2


class _Cursor:
    def __init__(self, position: tuple[str, int]) -> None:
        self.position = position

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def execute(self, sql: str) -> None:
        pass

    def fetchone(self) -> tuple[str, int]:
        return self.position


class _Server:
    """A connection whose SHOW MASTER STATUS says `position`."""

    def __init__(self, position: tuple[str, int]) -> None:
        self.position = position

    def cursor(self) -> _Cursor:
        return _Cursor(self.position)

    def close(self) -> None:
        pass


def _probing(connect: Any, catch_up: CatchUp) -> tuple[list[str], threading.Event]:
    behind: list[str] = []
    stop = threading.Event()
    prober = Prober(connect, catch_up, MAX_LAG_S, behind=behind.append)
    threading.Thread(target=prober.run, args=(stop,), daemon=True).start()
    return behind, stop


class TestBehind:
    def test_a_server_ahead_of_what_was_applied_is_told_past_the_max_lag(self) -> None:
        catch_up = CatchUp()
        catch_up.started(catch_up.clock(), BinlogPosition.of("binlog.000001", 100))
        behind, stop = _probing(lambda: _Server(("binlog.000001", 900)), catch_up)
        try:
            wait_for(lambda: bool(behind), timeout_s=30)
        finally:
            stop.set()
        assert behind[0].startswith("behind by more than FINDSVC_CACHE_MAX_LAG_S")

    def test_a_server_whose_position_cannot_be_read_is_told_past_the_max_lag(self) -> None:
        def refused() -> Any:
            raise pymysql.err.OperationalError(2003, "no route")

        catch_up = CatchUp()
        catch_up.started(catch_up.clock(), BinlogPosition.of("binlog.000001", 100))
        behind, stop = _probing(refused, catch_up)
        try:
            wait_for(lambda: bool(behind), timeout_s=30)
        finally:
            stop.set()
        assert behind[0].startswith("cannot read the binlog position: OperationalError(2003)")
