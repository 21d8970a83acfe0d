"""When a queue stands: every call over an interval waited more than the target (CoDel)."""

from __future__ import annotations

from findsvc.entrypoints.runtime.standing_queue import StandingQueue

TARGET_S = 0.1
INTERVAL_S = 1.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def queue_and_clock() -> tuple[StandingQueue, FakeClock]:
    clock = FakeClock()
    return StandingQueue(TARGET_S, INTERVAL_S, clock), clock


def calls_leave(
    queue: StandingQueue, clock: FakeClock, waits_s: list[float], every_s: float
) -> None:
    for waited_s in waits_s:
        clock.advance(every_s)
        queue.left_queue(waited_s)


class TestStandingQueue:
    def test_one_call_that_waited_through_a_hiccup_sheds_nothing(self) -> None:
        queue, clock = queue_and_clock()
        calls_leave(queue, clock, [0.01, 0.5, 0.02, 0.01], every_s=0.01)
        assert not queue.stands(oldest_waited_s=0.01)

    def test_a_hiccup_long_as_the_interval_sheds_nothing_once_calls_wait_less(self) -> None:
        queue, clock = queue_and_clock()
        calls_leave(queue, clock, [0.3] * 90, every_s=0.01)  # 0.9 s above target
        calls_leave(queue, clock, [0.05], every_s=0.01)  # one below: not standing
        calls_leave(queue, clock, [0.3] * 50, every_s=0.01)
        assert not queue.stands(oldest_waited_s=0.3)

    def test_calls_all_waiting_above_target_for_an_interval_make_it_stand(self) -> None:
        queue, clock = queue_and_clock()
        calls_leave(queue, clock, [0.15] * 99, every_s=0.01)
        assert not queue.stands(oldest_waited_s=0.15)  # 0.98 s: not yet an interval
        calls_leave(queue, clock, [0.15] * 3, every_s=0.01)
        assert queue.stands(oldest_waited_s=0.15)

    def test_it_stops_standing_once_the_oldest_queued_call_is_a_fresh_one(self) -> None:
        queue, clock = queue_and_clock()
        calls_leave(queue, clock, [0.15] * 150, every_s=0.01)
        assert queue.stands(oldest_waited_s=0.15)
        assert not queue.stands(oldest_waited_s=0.02)

    def test_an_empty_queue_ends_it(self) -> None:
        queue, clock = queue_and_clock()
        calls_leave(queue, clock, [0.15] * 150, every_s=0.01)
        assert not queue.stands(oldest_waited_s=None)
        assert not queue.stands(oldest_waited_s=0.15)  # it must stand a whole interval again

    def test_a_call_queued_above_target_for_an_interval_with_none_leaving_makes_it_stand(
        self,
    ) -> None:
        queue, _clock = queue_and_clock()  # every thread stuck: no call leaves at all
        assert not queue.stands(oldest_waited_s=TARGET_S + INTERVAL_S / 2)
        assert queue.stands(oldest_waited_s=TARGET_S + INTERVAL_S)
