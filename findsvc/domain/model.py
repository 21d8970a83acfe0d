"""The UMS user, as the AddService defines it: the same rules on both sides."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

NAME_MIN_LENGTH = 8
NAME_MAX_LENGTH = 32
PHONE_MINIMUM = 9_000_000_000

# Unicode's control characters (category Cc) are exactly these; a regex checks them in C.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class DomainError(Exception):
    """Base of the errors the domain raises."""


class InvalidName(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidPhoneNumber(DomainError):
    pass


class UserNotFound(DomainError):
    def __init__(self, name: Name) -> None:
        super().__init__(f"no user named {name.value!r}")
        self.name = name


class CorruptUserRecord(DomainError):
    """A stored record breaks the domain rules: the data, not the caller, is wrong."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"stored user {name!r} is corrupt: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Name:
    value: str

    def __post_init__(self) -> None:
        if _CONTROL_CHARACTER.search(self.value):
            raise InvalidName("must not contain control characters")
        if self.value != self.value.strip():
            raise InvalidName("must not have surrounding whitespace")
        if not NAME_MIN_LENGTH <= len(self.value) <= NAME_MAX_LENGTH:
            raise InvalidName(f"must be {NAME_MIN_LENGTH} to {NAME_MAX_LENGTH} characters long")

    @classmethod
    def parse(cls, raw: str) -> Name:
        """Accepts user input: surrounding whitespace is not part of the name."""
        return cls(raw.strip())


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    value: int

    def __post_init__(self) -> None:
        # bool is an int in Python; a flag is never a phone number.
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise InvalidPhoneNumber("must be an integer")
        if self.value < PHONE_MINIMUM:
            raise InvalidPhoneNumber(f"must be at least {PHONE_MINIMUM}")


class User:
    """An entity: two users are the same user when their names are."""

    __slots__ = ("name", "phone", "since")

    def __init__(self, name: Name, phone: PhoneNumber, since: datetime) -> None:
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        self.name = name
        self.phone = phone
        self.since = since

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        # The phone number is personal data: keep it out of logs and tracebacks.
        return f"User(name={self.name.value!r}, since={self.since.isoformat()})"
