"""The unit tests' fakes, in one place: repositories, stores and a clock, plus the demo user
as a domain User. Only unit tests use fakes; the other layers meet real parts."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from findsvc.domain import deadline
from findsvc.domain.model import CorruptUserRecord, Name, PhoneNumber, User, UserNotFound
from findsvc.domain.ports import Lookup, RepositoryTimeout, RepositoryUnavailable
from findsvc.domain.read_after import ReadAfter
from tests.support.calls import KRISHNA_PHONE, KRISHNA_SINCE


def user(name: str, phone: int = KRISHNA_PHONE) -> User:
    return User(Name(name), PhoneNumber(phone), KRISHNA_SINCE)


KRISHNA = user("KrishnaMohan")


class FakeClock:
    """A monotonic clock that moves only when a test moves `now`."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeRepository:
    """The repository port over a dict; keeps the names it was asked for."""

    def __init__(self, *users: User) -> None:
        self._users = {user.name: user for user in users}
        self.lookups: list[Name] = []

    def get(self, name: Name) -> User:
        self.lookups.append(name)
        try:
            return self._users[name]
        except KeyError:
            raise UserNotFound(name) from None


class FailingStore:
    """Knows only KRISHNA, or fails the way it is told to; counts the calls that reached it."""

    def __init__(self) -> None:
        self.failure: Exception | None = None
        self.calls = 0

    def get(self, name: Name) -> User:
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        if name != KRISHNA.name:
            raise UserNotFound(name)
        return KRISHNA

    def get_many(self, names: list[Name]) -> list[User]:
        return [self.get(name) for name in names]

    def ping(self) -> None:
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        pass


class FakeStore:
    """Case-insensitive like the default collation; "Broken*" names are corrupt rows."""

    def __init__(self, *names: str) -> None:
        self.users = {name.lower(): user(name) for name in names}
        self.singles: list[str] = []
        self.batches: list[list[str]] = []
        self.down = False
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Semaphore(0)
        self.honours_deadlines = False  # a held gate ends at the call's budget

    def _lookup(self, name: Name) -> Lookup:
        if name.value.startswith("Broken"):
            return CorruptUserRecord(name.value, "InvalidPhoneNumber")
        found = self.users.get(name.value.lower())
        return found if found is not None else UserNotFound(name)

    def _enter(self) -> None:
        self.entered.release()
        budget = deadline.current() if self.honours_deadlines else None
        opened = self.gate.wait(10 if budget is None else budget.remaining_s())
        if not opened and budget is not None:  # as the adapter: the caller's time, or the store's
            raise RepositoryTimeout("held", blames_store=not budget.set_by_caller)
        if self.down:
            raise RepositoryUnavailable("down")

    def get(self, name: Name) -> User:
        self.singles.append(name.value)
        self._enter()
        lookup = self._lookup(name)
        if isinstance(lookup, User):
            return lookup
        raise lookup

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        self.batches.append([name.value for name in names])
        self._enter()
        return [self._lookup(name) for name in names]

    def ping(self) -> None:
        if self.down:
            raise RepositoryUnavailable("down")

    def close(self) -> None:
        pass


class BudgetRecordingStore(FakeStore):
    """Keeps the deadline each batch query ran under."""

    def __init__(self, *names: str) -> None:
        super().__init__(*names)
        self.batch_budgets: list[deadline.Deadline | None] = []

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        self.batch_budgets.append(deadline.current())
        return super().get_many(names)


class FakeReplica(FakeStore):
    """A replica that has the given users, has applied `applied` positions and no others."""

    def __init__(self, name: str, *names: str) -> None:
        super().__init__(*names)
        self.name = name
        self.healthy = True
        self.applied: set[str] = set()
        self.waits: list[float] = []

    def has_applied(self, position: ReadAfter, wait_s: float) -> bool:
        self.waits.append(wait_s)
        if self.down:
            raise RepositoryUnavailable("down")
        return position.position in self.applied

    def failed(self) -> None:
        self.healthy = False


class FakeFreshness:
    """A binlog follower as the cache sees it: current or not, caught up or not."""

    def __init__(self) -> None:
        self.current = True
        self.caught_up = True
        self.waited_since: list[float] = []
        self.position: ReadAfter | None = None

    def is_current(self) -> bool:
        return self.current

    def caught_up_since(self, moment: float, timeout_s: float) -> bool:
        self.waited_since.append(moment)
        return self.caught_up

    def applied_position(self) -> ReadAfter | None:
        return self.position

    def close(self) -> None:
        pass


class ReadThenWaitStore(FakeStore):
    """Reads the row, then waits at the gate: a query whose answer is on its way back while
    the table changes."""

    def get(self, name: Name) -> User:
        self.singles.append(name.value)
        lookup = self._lookup(name)
        self._enter()
        if isinstance(lookup, User):
            return lookup
        raise lookup
