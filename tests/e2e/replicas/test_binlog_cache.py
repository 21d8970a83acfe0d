"""The binlog cache with a read replica: a miss is read only from a store that has applied
every change the follower has told the cache, so a lagging replica cannot put back a row a
change evicted; hot lookups still cost no query anywhere."""

from __future__ import annotations

import time

import grpc
import pytest

from devkit.server import ServerProcess, StartServer
from tests.support.calls import KRISHNA, KRISHNA_PHONE, find, find_user
from tests.support.db import admin_connection
from tests.support.load import wait_for
from tests.support.metrics import follower_state, log_messages, metrics_port, scrape, value
from tests.support.replication import (
    HEALTH_INTERVAL_S,
    LOOKUPS,
    Replicated,
    add_user,
    applied,
    com_select,
    lookups,
    new_name,
    position,
    replica_healthy,
    replication,
    wait_for_health,
)

NEW_PHONE = 9000000042
# Room for the stalled replica to stay healthy (in service) while a test runs: only then
# would it answer its old row, were the miss not gated.
STALL_LAG_S = 20.0


@pytest.fixture
def cached(start_server: StartServer, replicated: Replicated) -> ServerProcess:
    """As shipped (FINDSVC_CACHE_MODE=auto), following the primary's binlog."""
    process = start_server(replicated.server_env(STALL_LAG_S, cache_mode="auto"))
    wait_for_health(process, replicated, healthy=True)
    wait_for(lambda: follower_state(process, "following") == 1, timeout_s=30)
    return process


def evictions(server: ServerProcess) -> float:
    return value(scrape(metrics_port(server)), "findsvc_cache_evictions_total")


def set_phone(replicated: Replicated, name: str, phone: int) -> None:
    url = replicated.primary_url
    with admin_connection(url, url.database) as conn, conn.cursor() as cursor:
        cursor.execute("UPDATE ums_users SET phone = %s WHERE name = %s", (phone, name))


class TestAutoWithReplicas:
    def test_auto_chooses_the_binlog_cache_and_says_misses_wait_for_the_replicas(
        self, cached: ServerProcess
    ) -> None:
        chosen = [line for line in log_messages(cached) if line.startswith("cache: ")]
        assert len(chosen) == 1
        assert chosen[0].startswith("cache: binlog (auto: ")
        assert "replicas only once they have applied" in chosen[0]


class TestALaggingReplica:
    def test_cannot_put_back_a_row_the_follower_evicted(
        self, cached: ServerProcess, replicated: Replicated
    ) -> None:
        name = new_name()
        add_user(replicated, name)
        assert applied(replicated.replica_url, position(replicated.primary_url), wait_s=10)
        assert find_user(cached, name).phone == KRISHNA_PHONE  # now cached
        replication(replicated.replica_url, "STOP SLAVE SQL_THREAD")
        try:
            evicted = evictions(cached)
            set_phone(replicated, name, NEW_PHONE)
            wait_for(lambda: evictions(cached) > evicted, timeout_s=10)
            # The replica still has the old row, and is still in service.
            assert replica_healthy(cached, replicated) == 1.0
            on_primary = lookups(cached, "primary")
            assert find_user(cached, name).phone == NEW_PHONE
            assert lookups(cached, "primary") == on_primary + 1
        finally:
            replication(replicated.replica_url, "START SLAVE SQL_THREAD")
        assert applied(replicated.replica_url, position(replicated.primary_url), wait_s=10)
        # What the miss read was kept: the new phone, from memory, with no lookup.
        asked = lookups(cached, "primary") + lookups(cached, replicated.replica_label)
        assert find_user(cached, name).phone == NEW_PHONE
        assert lookups(cached, "primary") + lookups(cached, replicated.replica_label) == asked

    def test_a_replica_that_has_applied_the_change_answers_the_miss(
        self, cached: ServerProcess, replicated: Replicated
    ) -> None:
        name = new_name()
        add_user(replicated, name)
        assert find_user(cached, name).phone == KRISHNA_PHONE
        evicted = evictions(cached)
        set_phone(replicated, name, NEW_PHONE)
        wait_for(lambda: evictions(cached) > evicted, timeout_s=10)
        assert applied(replicated.replica_url, position(replicated.primary_url), wait_s=10)
        on_replica = lookups(cached, replicated.replica_label)
        on_primary = lookups(cached, "primary")
        assert find_user(cached, name).phone == NEW_PHONE
        assert lookups(cached, replicated.replica_label) == on_replica + 1
        assert lookups(cached, "primary") == on_primary


class TestHotLookups:
    def test_cost_no_query_on_the_primary_or_the_replica(
        self, cached: ServerProcess, replicated: Replicated
    ) -> None:
        assert find_user(cached, KRISHNA).name == KRISHNA  # cached from now on
        on_primary = com_select(replicated.primary_url)
        on_replica = com_select(replicated.replica_url)
        started = time.monotonic()
        with cached.channel() as channel:
            codes = {find(channel, KRISHNA) for _ in range(LOOKUPS)}
        elapsed_s = time.monotonic() - started
        assert codes == {grpc.StatusCode.OK}
        # Only readiness, the lag checks and the follower's probes: a few queries an interval.
        checks = 10 + 4 * elapsed_s / HEALTH_INTERVAL_S
        assert com_select(replicated.primary_url) - on_primary <= checks
        assert com_select(replicated.replica_url) - on_replica <= checks
