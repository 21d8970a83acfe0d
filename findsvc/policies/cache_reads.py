"""The cache's queries to the store in progress, and which of them a change has made stale:
an answer read before a change to its name is not kept (see caching.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from findsvc.domain.model import Name
from findsvc.domain.ports import RepositoryTimeout
from findsvc.domain.read_after import ReadAfter
from findsvc.policies.name_fold import fold
from findsvc.policies.outcomes import Outcome


@dataclass(eq=False)
class Read:
    """A query to the store in progress: its answer is not kept if `stale` turns True. It
    reads from a store that has applied `after`, the changes told when it began."""

    folds: frozenset[str]
    stale: bool
    after: ReadAfter | None = None


@dataclass(eq=False)
class Flight:
    """One name's query, shared by every caller that missed on it while it ran."""

    read: Read
    begun: float = field(default_factory=time.monotonic)  # before its query is sent
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome = None


class ReadsInProgress:
    """Used under the cache's lock."""

    def __init__(self) -> None:
        self._reads: set[Read] = set()

    def begin(self, names: Sequence[Name], stale: bool, after: ReadAfter | None = None) -> Read:
        read = Read(frozenset(fold(name.value) for name in names), stale, after)
        self._reads.add(read)
        return read

    def end(self, read: Read) -> bool:
        """Whether its answer may be kept."""
        self._reads.discard(read)
        return not read.stale

    def drop(self, read: Read) -> None:
        self._reads.discard(read)

    def names_changed(self, folds: frozenset[str]) -> None:
        for read in self._reads:
            if read.folds & folds:
                read.stale = True

    def all_changed(self) -> None:
        for read in self._reads:
            read.stale = True


# How long a cache fill waits for a replica to apply the changes told (read_after.max_wait_s):
# a replica in step is there within milliseconds; one further behind costs the primary a query.
FILL_MAX_WAIT_S = 0.05


def fill_position(position: ReadAfter | None) -> ReadAfter | None:
    """A fill waits for a lagging replica only briefly: the primary answers it at once, and
    the caller that missed should not wait the replica out."""
    return None if position is None else replace(position, max_wait_s=FILL_MAX_WAIT_S)


def cut_by_its_leader(outcome: Outcome) -> bool:
    """The query ended at the deadline of the caller that led it, not for the store."""
    return isinstance(outcome, RepositoryTimeout) and not outcome.blames_store
