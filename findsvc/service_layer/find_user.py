"""The find use case: plain values in, domain objects out."""

from __future__ import annotations

from findsvc.domain.model import Name, User
from findsvc.domain.ports import UserRepository


def find_user(raw_name: str, users: UserRepository) -> User:
    """Raises InvalidName, UserNotFound, CorruptUserRecord or RepositoryUnavailable."""
    return users.get(Name.parse(raw_name))
