"""What the domain needs from the outside world, owned by the domain."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol, TypeAlias

from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.read_after import ReadAfter

# What one name's lookup came to. Failures are values here, so that one corrupt row or one
# unknown name in a batch does not spoil the lookups of the others.
Lookup: TypeAlias = User | UserNotFound | CorruptUserRecord


class UserRepository(Protocol):
    def get(self, name: Name) -> User:
        """Returns the user with that name.

        Raises UserNotFound when there is none, CorruptUserRecord when the stored
        row breaks the domain rules, and RepositoryUnavailable when the store
        cannot be reached.
        """
        ...

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        """One lookup per name, in the order given, from one query to the store.

        Raises RepositoryUnavailable when the store cannot be reached.
        """
        ...


class CheckedRepository(UserRepository, Protocol):
    """A repository the server can run on: readiness pings it, shutdown closes it."""

    def ping(self) -> None:
        """Returns when the store answers; raises RepositoryUnavailable when it does not."""
        ...

    def close(self) -> None: ...


class ReplicaTarget(UserRepository, Protocol):
    """A read replica: it may lag its primary, so a miss on it proves nothing."""

    name: str  # for metrics and logs: set by the configuration, so a bounded set

    @property
    def healthy(self) -> bool:
        """Reachable and caught up, as its last background check (or a call) found it."""
        ...

    def has_applied(self, position: ReadAfter, wait_s: float) -> bool:
        """Whether it has applied `position`, waiting up to `wait_s` for it.

        Raises RepositoryUnavailable when it cannot be asked.
        """
        ...

    def failed(self) -> None:
        """A call found it unreachable: no reads until its next check finds it healthy."""
        ...

    def close(self) -> None: ...


class RepositoryUnavailable(Exception):
    """The store cannot be reached now; a later call may succeed."""

    def fresh(self) -> RepositoryUnavailable:
        """A copy to raise in another thread: a shared exception would mix their tracebacks."""
        return type(self)(str(self))


class RepositoryTimeout(RepositoryUnavailable):
    """The store did not answer within the call's time budget."""

    def __init__(self, message: str, *, blames_store: bool) -> None:
        super().__init__(message)
        # False when the caller's own deadline ran out, or all our connections were busy:
        # no sign that the store is unwell.
        self.blames_store = blames_store

    def fresh(self) -> RepositoryTimeout:
        return RepositoryTimeout(str(self), blames_store=self.blames_store)


class RepositoryMisconfigured(RepositoryUnavailable):
    """The store cannot be used as set up, whatever its state: the fault is on our side."""


class RepositorySchemaMismatch(RepositoryUnavailable):
    """The store answers, but its table lacks what the lookups read: no retry will help until
    the schema changes. The message says what is missing and quotes no data."""


class TableChanges(Protocol):
    """Told of each change to the users table as it commits, e.g. by a binlog follower."""

    def names_changed(self, names: Collection[str]) -> None:
        """Rows with these names (before or after the change) were inserted, updated or
        deleted: whatever was known of a name equal to one of them is stale."""
        ...

    def forget_all(self) -> None:
        """Changes may have been missed (the feed was cut, a TRUNCATE): nothing known holds."""
        ...


class Freshness(Protocol):
    """How current the changes told to a `TableChanges` are."""

    def is_current(self) -> bool:
        """True while every change committed up to a moment ago has been told."""
        ...

    def caught_up_since(self, moment: float, timeout_s: float) -> bool:
        """Waits up to `timeout_s` until every change committed before `moment` (on the
        time.monotonic() clock) has been told; False when that could not be shown in time."""
        ...

    def applied_position(self) -> ReadAfter | None:
        """The GTID position that holds every change told so far: a cache fill reads from a
        store that has applied it, so a replica behind cannot answer a row a change has
        evicted. None when any store will do (not following, or no replicas to lag)."""
        ...

    def close(self) -> None: ...
