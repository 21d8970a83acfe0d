"""DB work is bounded by the caller's deadline and by our cap, on a real MariaDB."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.config import DatabaseUrl
from findsvc.domain import deadline
from findsvc.domain.deadline import deadline_in
from findsvc.domain.model import Name, User
from findsvc.domain.ports import RepositoryTimeout, RepositoryUnavailable
from tests.support.db import table_locked
from tests.support.held_calls import finds_waiting_on_the_lock
from tests.support.load import wait_for
from tests.support.proxy import TcpProxy

KRISHNA = Name("KrishnaMohan")

# A busy 2-core machine can add seconds to any call: the bounds below tell "ended at the
# deadline" from "ended at the cap, or never", so the cap and the lock outlast them by far.
LONG_CAP_S = 30.0
ENDED_AT_THE_DEADLINE_S = 10.0


@contextmanager
def repository(
    url: DatabaseUrl, pool_size: int = 2, cap_s: float = 5.0, connect_s: float = 2.0
) -> Iterator[MySqlUserRepository]:
    repo = MySqlUserRepository(url, url.password, pool_size, connect_s, cap_s)
    try:
        yield repo
    finally:
        repo.close()


def timed_get(repo: MySqlUserRepository, within_s: float | None = None) -> tuple[Exception, float]:
    started = time.monotonic()
    try:
        if within_s is None:
            repo.get(KRISHNA)
        else:
            with deadline_in(within_s, set_by_caller=True):
                repo.get(KRISHNA)
    except RepositoryUnavailable as error:
        return error, time.monotonic() - started
    raise AssertionError("the call was expected to fail")


class TestABlockedQuery:
    def test_ends_when_the_callers_deadline_does(self, seeded: DatabaseUrl) -> None:
        with repository(seeded, cap_s=LONG_CAP_S) as repo, table_locked(seeded):
            error, elapsed = timed_get(repo, within_s=0.5)
        assert isinstance(error, RepositoryTimeout)
        assert not error.blames_store  # the caller's deadline ended it, not our cap
        assert 0.5 <= elapsed < ENDED_AT_THE_DEADLINE_S

    def test_ends_at_our_cap_when_the_caller_set_no_deadline(self, seeded: DatabaseUrl) -> None:
        with repository(seeded, cap_s=0.5) as repo, table_locked(seeded):
            error, elapsed = timed_get(repo)
        assert isinstance(error, RepositoryTimeout)
        assert error.blames_store  # our cap ended it: the caller set none
        assert 0.5 <= elapsed < ENDED_AT_THE_DEADLINE_S

    def test_leaves_its_connection_closed_and_the_next_call_succeeds(
        self, seeded: DatabaseUrl
    ) -> None:
        with repository(seeded) as repo:
            repo.get(KRISHNA)
            assert repo._pool.idle == 1
            with table_locked(seeded):
                timed_get(repo, within_s=0.3)
            assert repo._pool.idle == 0  # the hung connection was not put back
            assert repo.get(KRISHNA).phone.value == 9731423166


class TestThePoolWait:
    def test_is_bounded_by_the_callers_deadline(self, seeded: DatabaseUrl) -> None:
        results: list[User] = []
        with repository(seeded, pool_size=1, cap_s=LONG_CAP_S) as repo:
            with table_locked(seeded):
                holder = threading.Thread(target=lambda: results.append(repo.get(KRISHNA)))
                holder.start()  # it takes the only connection and waits on the lock
                wait_for(lambda: finds_waiting_on_the_lock(seeded) == 1, 20)
                error, elapsed = timed_get(repo, within_s=0.3)
            holder.join(timeout=LONG_CAP_S)
        assert isinstance(error, RepositoryTimeout)
        assert not error.blames_store  # our pool was busy; the database was fine
        assert 0.3 <= elapsed < ENDED_AT_THE_DEADLINE_S
        assert [user.name for user in results] == [KRISHNA]

    def test_running_out_on_it_is_not_blamed_on_the_database(self, seeded: DatabaseUrl) -> None:
        with repository(seeded, pool_size=1) as repo:
            with table_locked(seeded):
                holder = threading.Thread(target=repo.get, args=(KRISHNA,))
                holder.start()
                wait_for(lambda: finds_waiting_on_the_lock(seeded) == 1, 20)
                with deadline_in(0.3), pytest.raises(RepositoryTimeout) as raised:
                    repo.ping()  # as the readiness check does: our own budget, not a caller's
            holder.join(timeout=5)
        assert not raised.value.blames_store


class TestAnUnreachableDatabase:
    @pytest.fixture
    def proxy(self, seeded: DatabaseUrl) -> Iterator[TcpProxy]:
        proxy = TcpProxy(seeded.host, seeded.port)
        yield proxy
        proxy.close()

    def test_a_server_that_accepts_but_never_answers_is_bounded_by_the_deadline(
        self, seeded: DatabaseUrl, proxy: TcpProxy
    ) -> None:
        proxy.hang()
        url = replace(seeded, host="127.0.0.1", port=proxy.port)
        with repository(url, cap_s=LONG_CAP_S, connect_s=LONG_CAP_S) as repo:
            error, elapsed = timed_get(repo, within_s=0.5)
        assert isinstance(error, RepositoryTimeout)
        assert not error.blames_store  # the caller's deadline, not the cap or the connect
        assert 0.5 <= elapsed < ENDED_AT_THE_DEADLINE_S

    def test_a_handshake_that_never_comes_is_bounded_by_the_connect_timeout(
        self, seeded: DatabaseUrl, proxy: TcpProxy
    ) -> None:
        proxy.hang()
        url = replace(seeded, host="127.0.0.1", port=proxy.port)
        with repository(url, cap_s=LONG_CAP_S, connect_s=0.5) as repo:
            error, elapsed = timed_get(repo)
        assert not isinstance(error, RepositoryTimeout)  # the store failed, not our budget
        assert 0.5 <= elapsed < ENDED_AT_THE_DEADLINE_S

    def test_a_stopped_server_is_unavailable_at_once_and_healed_on_its_return(
        self, seeded: DatabaseUrl, proxy: TcpProxy
    ) -> None:
        url = replace(seeded, host="127.0.0.1", port=proxy.port)
        with repository(url, cap_s=LONG_CAP_S, connect_s=LONG_CAP_S) as repo:
            repo.get(KRISHNA)
            proxy.down()
            error, elapsed = timed_get(repo)
            assert not isinstance(error, RepositoryTimeout)  # refused, not waited out
            assert elapsed < ENDED_AT_THE_DEADLINE_S
            proxy.up()
            assert repo.get(KRISHNA).phone.value == 9731423166


class TestACallsBudgetAtTheSocket:
    """The budget the edge sets reaches the pool's wait and PyMySQL's socket timeouts."""

    @pytest.mark.parametrize(
        "remaining",
        [None, 9.223372036854776e18, 365 * 24 * 3600.0],
        ids=["none", "grpc none", "a year"],
    )
    def test_with_time_to_spare_the_query_answers(
        self, seeded: DatabaseUrl, remaining: float | None
    ) -> None:
        with repository(seeded) as repo:
            repo.get(KRISHNA)  # a pooled connection, whose socket timeouts each call sets
            for _ in range(2):
                with deadline.within(deadline.for_call(remaining, 5.0)):
                    assert repo.get(KRISHNA).phone.value == 9731423166

    def test_with_one_nanosecond_a_blocked_query_is_the_callers_timeout(
        self, seeded: DatabaseUrl
    ) -> None:
        with (
            repository(seeded) as repo,
            table_locked(seeded),
            deadline.within(deadline.for_call(1e-9, 5.0)),
        ):
            error, elapsed = timed_get(repo)
        assert isinstance(error, RepositoryTimeout)
        assert not error.blames_store
        assert elapsed < 4.0  # well inside the cap
