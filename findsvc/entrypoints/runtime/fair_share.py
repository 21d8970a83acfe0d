"""Who gives way when a lane is full: the caller that holds the most of it.

One global cap refuses whoever comes next, so a caller that floods takes every slot and every
other caller is refused with it. Here a full lane still admits a caller that holds less than
an equal share of the calls the lane holds (a quiet caller's next call), and refuses the
others (a flooding caller's, whose calls then drain until it holds no more than its share).
The share is of what the lane holds, and at most of its cap: a lane full because its queue
stands (standing_queue.py) sheds the heaviest caller, not the one that holds a few calls. The
lane holds more than its cap only by the calls of callers below their share, and never more
than twice its cap. With one caller (and with auth off, when every call is one caller) a full
lane refuses every call, as a plain cap does.

It runs on gRPC's polling thread for every call, so it costs a dict lookup and a product,
not a scan of the callers. Callers are the bounded `caller` labels (callers.py), so the dict
holds no more entries than the metrics do, and forgets a caller that holds no call.
"""

from __future__ import annotations


class FairShares:
    """The calls each caller holds on a lane of `cap` calls; `caller_cap` bounds any one
    caller's even when the lane has room (FINDSVC_CALLER_MAX_CONCURRENCY). Not thread-safe: the lane
    calls it under its own lock."""

    def __init__(self, cap: int, caller_cap: int | None = None) -> None:
        self.cap = cap
        self.caller_cap = caller_cap
        self._held: dict[str, int] = {}
        self.total = 0

    def held(self, caller: str) -> int:
        return self._held.get(caller, 0)

    def admits(self, caller: str, lane_full: bool) -> bool:
        held = self._held.get(caller, 0)
        if self.caller_cap is not None and held >= self.caller_cap:
            return False
        if not lane_full:
            return True
        if self.total >= 2 * self.cap:
            return False
        callers = len(self._held) + (0 if held else 1)
        return held * callers < min(self.total, self.cap)  # below an equal share

    def add(self, caller: str) -> None:
        self._held[caller] = self._held.get(caller, 0) + 1
        self.total += 1

    def remove(self, caller: str) -> None:
        held = self._held[caller] - 1
        if held:
            self._held[caller] = held
        else:
            del self._held[caller]
        self.total -= 1
