"""The batch find use case: up to MAX_NAMES names, all checked before any is looked up."""

from __future__ import annotations

from collections.abc import Sequence

from findsvc.domain.model import InvalidName, Name
from findsvc.domain.ports import Lookup, UserRepository

MAX_NAMES = 100


class TooManyNames(Exception):
    def __init__(self, count: int) -> None:
        super().__init__(f"{count} names; {MAX_NAMES} at most")
        self.count = count


class InvalidNameInBatch(Exception):
    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"names[{index}] {reason}")
        self.index = index
        self.reason = reason


def find_users(raw_names: Sequence[str], users: UserRepository) -> list[Lookup]:
    """One Lookup per name, in order. Raises TooManyNames, InvalidNameInBatch or
    RepositoryUnavailable."""
    if len(raw_names) > MAX_NAMES:
        raise TooManyNames(len(raw_names))
    names = []
    for index, raw in enumerate(raw_names):
        try:
            names.append(Name.parse(raw))
        except InvalidName as error:
            raise InvalidNameInBatch(index, error.reason) from None
    return users.get_many(names) if names else []
