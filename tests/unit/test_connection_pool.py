"""ConnectionPool: at most `size` connections, reused newest first, a bounded wait for one."""

from __future__ import annotations

import itertools
import math
import threading

import pytest

from findsvc.adapters.mysql.pool import ConnectionPool, PoolExhausted
from tests.unit.fakes import FakeClock


class FakeConnection:
    numbers = itertools.count(1)

    def __init__(self) -> None:
        self.number = next(self.numbers)
        self.closed = False

    def close(self) -> None:
        self.closed = True


class CountingObserver:
    def __init__(self) -> None:
        self.counts: list[tuple[int, int]] = []
        self.uses: list[bool] = []

    def connections_changed(self, in_use: int, idle: int) -> None:
        self.counts.append((in_use, idle))

    def connection_used(self, seconds: float, ok: bool) -> None:
        self.uses.append(ok)


def pool(
    size: int = 2,
    observer: CountingObserver | None = None,
    max_idle_s: float = math.inf,
    clock: FakeClock | None = None,
) -> tuple[ConnectionPool[FakeConnection], list[FakeConnection]]:
    """A pool of fake connections, and every connection it opened, in order."""
    opened: list[FakeConnection] = []

    def connect() -> FakeConnection:
        opened.append(FakeConnection())
        return opened[-1]

    return ConnectionPool(connect, size, observer, max_idle_s, clock or FakeClock()), opened


class TestReuse:
    def test_a_returned_connection_is_reused(self) -> None:
        connections, opened = pool()
        with connections.connection(1.0) as (first, reused):
            assert not reused
        with connections.connection(1.0) as (again, reused):
            assert reused and again is first
        assert len(opened) == 1

    def test_the_newest_idle_connection_goes_first(self) -> None:
        connections, opened = pool()
        with connections.connection(1.0), connections.connection(1.0):
            pass  # two opened; the second came back last
        with connections.connection(1.0) as (conn, _):
            assert conn is opened[0]  # given back last: the outer block ends after the inner

    def test_a_connection_whose_use_raised_is_closed_not_reused(self) -> None:
        connections, opened = pool()
        with pytest.raises(RuntimeError), connections.connection(1.0):
            raise RuntimeError
        assert opened[0].closed
        assert connections.idle == 0


class TestTheLimit:
    def test_past_size_a_caller_waits_and_then_is_refused(self) -> None:
        connections, opened = pool(size=1)
        with (
            connections.connection(1.0),
            pytest.raises(PoolExhausted),
            connections.connection(0.05),
        ):
            pass
        assert len(opened) == 1

    def test_a_waiting_caller_gets_the_connection_given_back(self) -> None:
        connections, opened = pool(size=1)
        taken = threading.Event()
        release = threading.Event()

        def holder() -> None:
            with connections.connection(1.0):
                taken.set()
                release.wait(5)

        thread = threading.Thread(target=holder)
        thread.start()
        assert taken.wait(5)
        release.set()
        with connections.connection(5.0) as (_conn, reused):
            assert reused
        thread.join(5)
        assert len(opened) == 1


class TestStaleConnections:
    def test_one_idle_past_max_idle_is_closed_instead_of_reused(self) -> None:
        clock = FakeClock()
        connections, opened = pool(max_idle_s=60.0, clock=clock)
        with connections.connection(1.0):
            pass
        clock.now += 61
        with connections.connection(1.0) as (conn, reused):
            assert not reused and conn is opened[1]
        assert opened[0].closed

    def test_invalidate_closes_idle_ones_now_and_busy_ones_when_they_return(self) -> None:
        connections, opened = pool()
        with connections.connection(1.0):
            pass
        with connections.connection(1.0) as (busy, _):
            with connections.connection(1.0):
                pass  # a second one, idle again
            connections.invalidate()
            assert opened[1].closed and not busy.closed
        assert busy.closed
        assert connections.idle == 0


class TestTheObserver:
    def test_hears_every_change_in_order_and_each_use(self) -> None:
        observer = CountingObserver()
        connections, _ = pool(observer=observer)
        with connections.connection(1.0):
            pass
        with pytest.raises(RuntimeError), connections.connection(1.0):
            raise RuntimeError
        assert observer.counts == [(1, 0), (0, 1), (1, 0), (0, 0)]
        assert observer.uses == [True, False]
