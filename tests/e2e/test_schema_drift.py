"""A table that no longer fits, and a table held locked: readiness and findsvc_db_up say so, the
call's error names what is missing, and the log says it once when it starts and once when it
ends, with a count."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from devkit.server import ServerProcess, StartServer
from findsvc.config import DatabaseUrl
from tests.support.calls import (
    KRISHNA,
    KRISHNA_PHONE,
    KRISHNA_SINCE,
    NOT_SERVING,
    SERVING,
    find_user,
    readiness_is,
)
from tests.support.db import (
    admin_connection,
    database_of_its_own,
    insert_user,
    table_locked,
    url_string,
)
from tests.support.load import wait_for
from tests.support.metrics import log_entries, metrics_port, scrape, value


@pytest.fixture
def users_db_of_its_own(mysql_server_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    with database_of_its_own(mysql_server_url, "findsvc_drift") as url:
        insert_user(url, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
        yield url


def alter(url: DatabaseUrl, sql: str) -> None:
    with admin_connection(url, url.database) as conn, conn.cursor() as cursor:
        cursor.execute(sql)


def lines_with(server: ServerProcess, text: str) -> list[dict[str, object]]:
    return [entry for entry in log_entries(server) if text in str(entry.get("message", ""))]


def ended_after(server: ServerProcess, text: str) -> list[dict[str, object]]:
    return [entry for entry in lines_with(server, "failure ended") if text in str(entry["message"])]


def queries(port: int) -> float:
    """Queries run on pooled connections: each health check runs one."""
    samples = scrape(port)
    name = "findsvc_db_query_duration_seconds_count"
    return value(samples, name, outcome="ok") + value(samples, name, outcome="error")


class TestRenamedColumn:
    def test_readiness_metric_error_and_log_follow_a_renamed_column_and_its_repair(
        self, users_db_of_its_own: DatabaseUrl, start_server: StartServer
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": url_string(users_db_of_its_own)})
        port = metrics_port(server)
        alter(users_db_of_its_own, "ALTER TABLE ums_users RENAME COLUMN phone TO phone_number")

        wait_for(lambda: readiness_is(server, NOT_SERVING), timeout_s=20)
        wait_for(lambda: value(scrape(port), "findsvc_db_up") == 0, timeout_s=20)
        for _ in range(5):
            with pytest.raises(grpc.RpcError) as raised:
                find_user(server, KRISHNA)
            assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert "no column phone" in (raised.value.details() or "")
        # Several checks fail against the renamed column before it is repaired.
        failing_since = queries(port)
        wait_for(lambda: queries(port) >= failing_since + 4, timeout_s=20)

        alter(users_db_of_its_own, "ALTER TABLE ums_users RENAME COLUMN phone_number TO phone")
        wait_for(lambda: readiness_is(server, SERVING), timeout_s=20)
        assert find_user(server, KRISHNA).phone == KRISHNA_PHONE
        wait_for(lambda: ended_after(server, "no column phone"), timeout_s=10)

        # Several checks failed (the count says so), and one line said it started.
        [ended] = ended_after(server, "no column phone")
        assert int(str(ended["failures"])) >= 4
        assert len(lines_with(server, "database unavailable: schema mismatch")) == 1


class TestHeldLock:
    def test_a_table_held_locked_logs_one_timeout_until_it_is_released(
        self, users_db_of_its_own: DatabaseUrl, start_server: StartServer
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": url_string(users_db_of_its_own)})
        port = metrics_port(server)
        with table_locked(users_db_of_its_own):
            wait_for(lambda: readiness_is(server, NOT_SERVING), timeout_s=20)
            # Several checks time out while the lock is held.
            failing_since = queries(port)
            wait_for(lambda: queries(port) >= failing_since + 3, timeout_s=30)
        wait_for(lambda: readiness_is(server, SERVING), timeout_s=20)
        wait_for(lambda: ended_after(server, "timeout"), timeout_s=10)

        [ended] = ended_after(server, "timeout")
        assert int(str(ended["failures"])) >= 3
        assert len(lines_with(server, "database unavailable: timeout")) == 1
