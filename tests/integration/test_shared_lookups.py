"""Deadlines through the cache and the coalescer, as `serve` wires them, on a real MariaDB.

A lookup shared by several callers runs under the store's own cap; each caller waits for it
only within its own deadline (or the cap, if it set none).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from findsvc.bootstrap import build_serving_repository
from findsvc.config import DatabaseUrl, Settings
from findsvc.domain.deadline import deadline_in
from findsvc.domain.model import Name, User
from findsvc.domain.ports import CheckedRepository, RepositoryTimeout
from findsvc.policies.caching import CachingRepository
from tests.support.db import table_locked
from tests.support.load import wait_for

KRISHNA = Name("KrishnaMohan")

# A busy 2-core machine can add seconds to any call: "ended at its deadline" is told from
# "ended at the cap, or never" by a cap and a lock that outlast this bound by far.
LONG_CAP_S = 30.0
ENDED_AT_THE_DEADLINE_S = 10.0


@contextmanager
def serving_repository(
    url: DatabaseUrl, cap_s: float, cache: bool, pool_size: int = 2
) -> Iterator[CheckedRepository]:
    settings = Settings(
        db_url=url,
        db_timeout_s=cap_s,
        db_pool_size=pool_size,
        cache_ttl_s=60 if cache else 0,
    )
    users = build_serving_repository(settings)
    try:
        yield users
    finally:
        users.close()


class Call:
    """One lookup in a thread of its own, with its own deadline (None: no deadline)."""

    def __init__(
        self, users: CheckedRepository, deadline_s: float | None, name: Name = KRISHNA
    ) -> None:
        self.outcome: User | Exception | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, args=(users, deadline_s, name))
        self._thread.start()

    def _run(self, users: CheckedRepository, deadline_s: float | None, name: Name) -> None:
        started = time.monotonic()
        try:
            if deadline_s is None:
                self.outcome = users.get(name)
            else:
                with deadline_in(deadline_s, set_by_caller=True):
                    self.outcome = users.get(name)
        except Exception as error:
            self.outcome = error
        self.seconds = time.monotonic() - started

    def join(self) -> Call:
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()
        return self

    @property
    def found(self) -> bool:
        return isinstance(self.outcome, User) and self.outcome.name == KRISHNA


def stats_reach(users: CheckedRepository, what: Callable[[CachingRepository], bool]) -> None:
    assert isinstance(users, CachingRepository)
    wait_for(lambda: what(users), 5)


class TestTheCacheOnATimeout:
    def test_a_database_timeout_is_a_timeout_as_with_the_cache_off(
        self, seeded: DatabaseUrl
    ) -> None:
        with serving_repository(seeded, cap_s=0.5, cache=True) as users, table_locked(seeded):
            call = Call(users, deadline_s=None).join()
        assert isinstance(call.outcome, RepositoryTimeout)  # DEADLINE_EXCEEDED at the edge
        assert 0.5 <= call.seconds < ENDED_AT_THE_DEADLINE_S


class TestACachedLookupSharedByCallers:
    def test_the_first_callers_short_deadline_does_not_fail_the_others(
        self, seeded: DatabaseUrl
    ) -> None:
        with serving_repository(seeded, cap_s=LONG_CAP_S, cache=True) as users:
            with table_locked(seeded):
                hasty = Call(users, deadline_s=0.5)
                stats_reach(users, lambda cache: cache.stats.misses == 1)
                patient = Call(users, deadline_s=LONG_CAP_S)
                stats_reach(users, lambda cache: cache.stats.shared == 1)
                hasty.join()
            patient.join()
        assert isinstance(hasty.outcome, RepositoryTimeout)
        assert 0.5 <= hasty.seconds < ENDED_AT_THE_DEADLINE_S
        assert patient.found

    def test_a_caller_waits_no_longer_than_its_own_deadline(self, seeded: DatabaseUrl) -> None:
        with serving_repository(seeded, cap_s=LONG_CAP_S, cache=True) as users:
            with table_locked(seeded):
                first = Call(users, deadline_s=None)
                stats_reach(users, lambda cache: cache.stats.misses == 1)
                hasty = Call(users, deadline_s=0.3)
                hasty.join()
                assert first.outcome is None  # the lock still holds the shared lookup
            first.join()
        assert isinstance(hasty.outcome, RepositoryTimeout)
        assert 0.3 <= hasty.seconds < ENDED_AT_THE_DEADLINE_S
        assert first.found


class TestCallsWithoutADeadline:
    @pytest.mark.parametrize("cache", [False, True], ids=["cache off", "cache on"])
    def test_spend_at_most_the_cap_on_database_work_queued_or_not(
        self, seeded: DatabaseUrl, cache: bool
    ) -> None:
        cap_s = 2.0
        # One connection: the first call holds it on the lock, the others queue behind it.
        with (
            serving_repository(seeded, cap_s=cap_s, cache=cache, pool_size=1) as users,
            table_locked(seeded),
        ):
            # Four names: with the cache on, four lookups, not one shared.
            names = [KRISHNA, *(Name(f"SomeoneElse{i}") for i in range(3))]
            calls = [Call(users, deadline_s=None, name=name) for name in names]
            for call in calls:
                call.join()
        assert all(isinstance(call.outcome, RepositoryTimeout) for call in calls)
        # One after another behind the one connection, the last would spend four caps.
        assert max(call.seconds for call in calls) < 2 * cap_s
