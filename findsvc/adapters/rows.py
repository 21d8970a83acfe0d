"""Turning a stored row into a domain User, for every adapter alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from findsvc.domain.model import CorruptUserRecord, DomainError, Name, PhoneNumber, User


def user_from_row(name: Any, phone: Any, since: Any) -> User:
    """Raises CorruptUserRecord for a row the AddService's rules forbid."""
    try:
        if since is None:
            raise CorruptUserRecord(str(name), "since is missing")
        if not isinstance(since, datetime):
            raise CorruptUserRecord(str(name), "since is not a date and time")
        # DATETIME has no zone; the AddService stores UTC.
        since_utc = since.replace(tzinfo=UTC) if since.tzinfo is None else since
        return User(Name.parse(str(name)), PhoneNumber(phone), since_utc)
    except CorruptUserRecord:
        raise
    except DomainError as error:
        raise CorruptUserRecord(str(name), type(error).__name__) from None
