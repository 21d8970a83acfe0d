"""An in-memory store that counts its queries and can be held mid-query: for wrapper tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from findsvc.domain.model import CorruptUserRecord, Name, PhoneNumber, User, UserNotFound
from findsvc.domain.ports import Lookup, RepositoryUnavailable

SINCE = datetime(2018, 3, 14, 9, 30, tzinfo=UTC)


def user(name: str, phone: int = 9731423166) -> User:
    return User(Name(name), PhoneNumber(phone), SINCE)


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

    def _lookup(self, name: Name) -> Lookup:
        if name.value.startswith("Broken"):
            return CorruptUserRecord(name.value, "InvalidPhoneNumber")
        found = self.users.get(name.value.lower())
        return found if found is not None else UserNotFound(name)

    def _enter(self) -> None:
        self.entered.release()
        self.gate.wait(10)
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
