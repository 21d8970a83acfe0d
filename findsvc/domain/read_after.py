"""A caller's "read after my write": the GTID position its answer must include.

The edge parses it from the call's metadata and sets it for the call, as it does the
deadline; the replica policy reads it. Two forms, one per server family:
MariaDB's `@@gtid_binlog_pos` (`domain-server-seq`, comma-separated) and MySQL's GTID set
(`uuid[:tag]:interval[:interval...]`, comma-separated).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from findsvc.domain.model import DomainError

# Far more than a real position (MySQL's set grows one uuid per server that ever wrote), and
# small enough that a hostile header costs nothing to check.
MAX_LENGTH = 2048

Family = Literal["mariadb", "mysql"]

_NUMBER = r"(?:0|[1-9][0-9]{0,19})"
_MARIADB_GTID = rf"{_NUMBER}-{_NUMBER}-{_NUMBER}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_INTERVAL = rf"{_NUMBER}(?:-{_NUMBER})?"
_MYSQL_GTIDS = rf"{_UUID}(?::[a-zA-Z_][a-zA-Z0-9_]{{0,31}})?(?::{_INTERVAL})+"
_SEPARATOR = r", ?"
_FORMS: dict[Family, re.Pattern[str]] = {
    "mariadb": re.compile(rf"{_MARIADB_GTID}(?:{_SEPARATOR}{_MARIADB_GTID})*"),
    "mysql": re.compile(rf"{_MYSQL_GTIDS}(?:{_SEPARATOR}{_MYSQL_GTIDS})*"),
}


class InvalidReadAfter(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ReadAfter:
    """A position the answer must include: every transaction it names is applied."""

    position: str
    family: Family
    # How long a replica may be waited for before another target answers; None: up to half
    # the call's budget, for a caller that has just written and would rather wait.
    max_wait_s: float | None = None

    @classmethod
    def parse(cls, raw: str) -> ReadAfter:
        if len(raw) > MAX_LENGTH:
            raise InvalidReadAfter(f"must be at most {MAX_LENGTH} characters")
        for family, form in _FORMS.items():
            if form.fullmatch(raw) and _numbers_fit(raw, family):
                return cls(raw.replace(" ", ""), family)
        raise InvalidReadAfter(
            "must be a MariaDB GTID position (0-1-42) or a MySQL GTID set (uuid:1-42)"
        )


def _numbers_fit(raw: str, family: Family) -> bool:
    """Within what the server stores, so a valid-looking header never makes it fail a query."""
    if family == "mariadb":
        for gtid in raw.split(","):
            domain, server, sequence = (int(part) for part in gtid.strip().split("-"))
            if domain >= 2**32 or server >= 2**32 or sequence >= 2**64:
                return False
        return True
    for gtids in raw.split(","):
        for interval in _INTERVALS.findall(gtids):
            first, _, last = interval.partition("-")
            end = int(last or first)
            if not 1 <= int(first) <= end < 2**63:
                return False
    return True


_INTERVALS = re.compile(rf":({_INTERVAL})(?=:|$)")

_current: ContextVar[ReadAfter | None] = ContextVar("findsvc_read_after", default=None)


def current() -> ReadAfter | None:
    return _current.get()


@contextmanager
def reading_after(position: ReadAfter | None) -> Iterator[None]:
    """Lookups inside answer only from a store that has applied `position` (None: any)."""
    token = _current.set(position)
    try:
        yield
    finally:
        _current.reset(token)
