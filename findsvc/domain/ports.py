"""What the domain needs from the outside world, owned by the domain."""

from __future__ import annotations

from typing import Protocol

from findsvc.domain.model import Name, User


class UserRepository(Protocol):
    def get(self, name: Name) -> User:
        """Returns the user with that name.

        Raises UserNotFound when there is none, CorruptUserRecord when the stored
        row breaks the domain rules, and RepositoryUnavailable when the store
        cannot be reached.
        """
        ...


class RepositoryUnavailable(Exception):
    """The store cannot be reached now; a later call may succeed."""


class RepositoryTimeout(RepositoryUnavailable):
    """The store did not answer within the call's time budget."""

    def __init__(self, message: str, *, set_by_caller: bool) -> None:
        super().__init__(message)
        # True when the caller's own deadline ran out: no sign that the store is unwell.
        self.set_by_caller = set_by_caller
