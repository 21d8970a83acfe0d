"""Fair shedding: a full lane refuses the caller that holds the most of it, not the next one."""

from __future__ import annotations

from findsvc.entrypoints.runtime.fair_share import FairShares


def holding(cap: int, calls: dict[str, int], caller_cap: int | None = None) -> FairShares:
    shares = FairShares(cap, caller_cap)
    for caller, held in calls.items():
        for _ in range(held):
            shares.add(caller)
    return shares


class TestALaneWithRoom:
    def test_admits_every_caller(self) -> None:
        shares = holding(64, {"flood": 60})
        assert shares.admits("flood", lane_full=False)
        assert shares.admits("quiet", lane_full=False)

    def test_refuses_a_caller_at_its_own_cap(self) -> None:
        shares = holding(64, {"flood": 8, "quiet": 7}, caller_cap=8)
        assert not shares.admits("flood", lane_full=False)
        assert shares.admits("quiet", lane_full=False)


class TestAFullLane:
    def test_with_one_caller_refuses_every_call_as_a_plain_cap_does(self) -> None:
        shares = holding(64, {"unauthenticated": 64})
        assert not shares.admits("unauthenticated", lane_full=True)

    def test_admits_a_quiet_caller_and_refuses_the_one_that_floods(self) -> None:
        shares = holding(64, {"flood": 63, "quiet": 1})
        assert shares.admits("quiet", lane_full=True)
        assert shares.admits("newcomer", lane_full=True)
        assert not shares.admits("flood", lane_full=True)

    def test_refuses_callers_that_hold_equal_shares(self) -> None:
        shares = holding(64, {"a": 32, "b": 32})
        assert not shares.admits("a", lane_full=True)
        assert not shares.admits("b", lane_full=True)

    def test_admits_a_caller_until_it_holds_its_share_of_the_cap(self) -> None:
        shares = holding(64, {"flood": 64})
        admitted = 0
        while shares.admits("quiet", lane_full=True):
            shares.add("quiet")
            admitted += 1
        assert admitted == 32  # an equal share of 64 between two callers

    def test_whose_queue_stands_below_its_cap_sheds_the_heaviest_caller(self) -> None:
        shares = holding(64, {"flood": 18, "quiet": 2})
        assert not shares.admits("flood", lane_full=True)
        assert shares.admits("quiet", lane_full=True)

    def test_never_holds_more_than_twice_its_cap(self) -> None:
        shares = holding(4, {f"caller{i}": 1 for i in range(8)})
        assert shares.total == 8
        assert not shares.admits("newcomer", lane_full=True)


class TestTheCallersItKnows:
    def test_are_only_those_that_hold_calls(self) -> None:
        shares = holding(64, {"flood": 2})
        shares.remove("flood")
        shares.remove("flood")
        assert shares.held("flood") == 0
        assert shares.total == 0
        # With the flooder forgotten, a lone quiet caller is the only caller again.
        shares.add("quiet")
        assert not shares.admits("quiet", lane_full=True)
