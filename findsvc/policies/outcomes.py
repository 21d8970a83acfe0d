"""What one lookup came to, handed to each caller waiting for it: the cache and the coalescer.

Many callers can wait for one query. Each gets exceptions of its own, never a shared one: an
exception raised in two threads would mix their tracebacks.
"""

from __future__ import annotations

from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.ports import Lookup, RepositoryUnavailable

Outcome = Lookup | RepositoryUnavailable | None  # None: the query never ended (a fault)


def own(lookup: Lookup | None, name: Name) -> Lookup:
    """A lookup fit to hand out to the caller that asked for `name`."""
    if isinstance(lookup, UserNotFound | CorruptUserRecord):
        return _fresh(lookup, name)
    assert lookup is not None
    return lookup


def answer(outcome: Outcome, name: Name) -> User:
    """The user, or the outcome raised as the caller's own exception."""
    if isinstance(outcome, User):
        return outcome
    if isinstance(outcome, UserNotFound | CorruptUserRecord):
        raise _fresh(outcome, name)
    if isinstance(outcome, RepositoryUnavailable):  # a timeout stays a timeout
        raise outcome.fresh()
    raise RepositoryUnavailable("database unavailable")


def _fresh(error: UserNotFound | CorruptUserRecord, name: Name) -> UserNotFound | CorruptUserRecord:
    if isinstance(error, UserNotFound):
        return UserNotFound(name)
    # Names equal under the collation share one outcome: a copy of our own.
    return CorruptUserRecord(error.name, error.reason)
