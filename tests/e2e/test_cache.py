"""The read-through cache, switched on: found users are served from memory for the TTL."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from devkit.server import ServerProcess, serving
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA_SINCE, find_user
from tests.support.db import admin_connection, insert_user
from tests.support.metrics import metrics_port, scrape, value


@pytest.fixture(scope="module")
def cached_server(users_db_url: str) -> Iterator[ServerProcess]:
    with serving({"FINDSVC_DB_URL": users_db_url, "FINDSVC_CACHE_TTL_S": "600"}) as process:
        yield process


class TestCacheOn:
    def test_a_found_user_is_served_from_the_cache_within_the_ttl(
        self, cached_server: ServerProcess, users_db: DatabaseUrl
    ) -> None:
        insert_user(users_db, "CachedUser01", 9000000002, KRISHNA_SINCE)
        assert find_user(cached_server, "CachedUser01").phone == 9000000002
        with admin_connection(users_db, users_db.database) as conn, conn.cursor() as cursor:
            cursor.execute("DELETE FROM ums_users WHERE name = %s", ("CachedUser01",))
        assert find_user(cached_server, "CachedUser01").phone == 9000000002

    def test_not_found_is_not_cached_by_default(
        self, cached_server: ServerProcess, users_db: DatabaseUrl
    ) -> None:
        with pytest.raises(grpc.RpcError) as raised:
            find_user(cached_server, "AddedLater01")
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
        insert_user(users_db, "AddedLater01", 9000000003, KRISHNA_SINCE)
        assert find_user(cached_server, "AddedLater01").phone == 9000000003


class TestCacheMetrics:
    def test_hits_and_misses_are_published(
        self, cached_server: ServerProcess, users_db: DatabaseUrl
    ) -> None:
        insert_user(users_db, "CountedUser01", 9000000004, KRISHNA_SINCE)
        port = metrics_port(cached_server)
        before = scrape(port)
        find_user(cached_server, "CountedUser01")  # not cached yet: a miss
        find_user(cached_server, "CountedUser01")  # a hit
        after = scrape(port)
        lookups = "findsvc_cache_lookups_total"
        hits = value(after, lookups, result="hits") - value(before, lookups, result="hits")
        misses = value(after, lookups, result="misses") - value(before, lookups, result="misses")
        assert (hits, misses) == (1, 1)
