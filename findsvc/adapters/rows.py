"""Turning a stored row into a domain User, for every adapter alike.

A row that cannot become a User is a CorruptUserRecord, whatever went wrong: the data, not the
caller, is wrong, and callers get DATA_LOSS. Its reason is fixed text and its name is the
stored one only when that name obeys the rules: no stored value (a phone, a name with control
characters) reaches a message or a log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from findsvc.domain.model import CorruptUserRecord, DomainError, Name, PhoneNumber, User

# The record's phone is a protobuf int64, as the AddService's BIGINT: a larger stored value
# (a BIGINT UNSIGNED column) cannot be sent.
PHONE_MAXIMUM = 2**63 - 1

# Stands for a stored name that breaks the rules, in place of its value.
UNNAMED = "(a stored name that breaks the rules)"

MORE_THAN_ONE = "more than one record has this name"


def user_from_row(name: Any, phone: Any, since: Any) -> User:
    """Raises CorruptUserRecord for a row the AddService's rules forbid or findsvc cannot send."""
    label = _label(name)
    try:
        if not isinstance(name, str):
            raise CorruptUserRecord(label, "name is not text")
        if since is None:
            raise CorruptUserRecord(label, "since is missing")
        if not isinstance(since, datetime):
            raise CorruptUserRecord(label, "since is not a date and time")
        if isinstance(phone, int) and phone > PHONE_MAXIMUM:
            raise CorruptUserRecord(label, "phone is out of range")
        # DATETIME has no zone; the AddService stores UTC.
        since_utc = since.replace(tzinfo=UTC) if since.tzinfo is None else since
        return User(Name.parse(name), PhoneNumber(phone), since_utc)
    except CorruptUserRecord:
        raise
    except DomainError as error:
        raise CorruptUserRecord(label, type(error).__name__) from None
    except Exception as error:  # noqa: BLE001 - any value the row holds is bad data, not a bug
        raise CorruptUserRecord(label, f"cannot convert: {type(error).__name__}") from None


def duplicate(name: Any) -> CorruptUserRecord:
    """Two rows for one name (a table without the AddService's unique key): either answer
    could be the wrong person's phone, so neither is given."""
    return CorruptUserRecord(_label(name), MORE_THAN_ONE)


def _label(name: Any) -> str:
    try:
        return Name.parse(name).value if isinstance(name, str) else UNNAMED
    except DomainError:
        return UNNAMED
