"""When the binlog follower is known to have applied every commit before a moment: from the
positions it applied and the server's positions read at known moments."""

from __future__ import annotations

import threading

from findsvc.adapters.mysql.binlog_position import BinlogPosition, CatchUp
from tests.unit.fakes import FakeClock

START = BinlogPosition.of("binlog.000001", 1000)


def at(offset: int, file: str = "binlog.000001") -> BinlogPosition:
    return BinlogPosition.of(file, offset)


def following(clock: FakeClock) -> CatchUp:
    catch_up = CatchUp(clock)
    catch_up.started(clock(), START)
    return catch_up


class TestPositions:
    def test_a_later_file_is_further_whatever_the_offsets(self) -> None:
        assert at(4, "binlog.000010") > at(99999, "binlog.000009")


class TestCaughtUp:
    def test_what_committed_before_the_start_is_covered(self) -> None:
        clock = FakeClock()
        catch_up = following(clock)
        assert catch_up.wait_covered(clock() - 1, timeout_s=0)
        assert catch_up.lag_s() == 0

    def test_a_read_position_already_applied_covers_its_moment(self) -> None:
        clock = FakeClock()
        catch_up = following(clock)
        clock.now += 5
        catch_up.probed(clock(), START)
        assert catch_up.wait_covered(clock(), timeout_s=0)

    def test_a_read_position_ahead_covers_its_moment_once_applied(self) -> None:
        clock = FakeClock()
        catch_up = following(clock)
        clock.now += 5
        catch_up.probed(clock(), at(2000))
        assert not catch_up.wait_covered(clock(), timeout_s=0)
        assert catch_up.lag_s() == 5
        catch_up.applied(at(1500))
        assert not catch_up.wait_covered(clock(), timeout_s=0)
        catch_up.applied(at(2000))
        assert catch_up.wait_covered(clock(), timeout_s=0)
        assert catch_up.lag_s() == 0

    def test_a_waiting_call_asks_for_a_newer_read_and_wakes_when_it_is_applied(self) -> None:
        clock = FakeClock()
        catch_up = following(clock)
        clock.now += 1
        covered: list[bool] = []
        waiter = threading.Thread(
            target=lambda: covered.append(catch_up.wait_covered(clock(), timeout_s=30))
        )
        waiter.start()
        stop = threading.Event()
        moment = catch_up.wait_probe_due(every_s=3600, stop=stop)  # due: a call waits
        catch_up.probed(moment, at(3000))
        catch_up.applied(at(3000))
        waiter.join(30)
        assert covered == [True]


class TestLost:
    def test_nothing_is_covered_and_waiting_calls_give_up_at_once(self) -> None:
        clock = FakeClock()
        catch_up = following(clock)
        clock.now += 1
        catch_up.probed(clock(), at(2000))
        catch_up.lost()
        catch_up.applied(at(2000))
        assert not catch_up.following()
        assert not catch_up.wait_covered(clock() - 10, timeout_s=30)
