"""A primary MariaDB and its replica over GTID, the raw SQL tests use to watch them, and what
a findsvc serving from them says about the replica."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from devkit.mariadb import PrivateMariaDB, start_replica
from devkit.server import ServerProcess
from findsvc.config import DatabaseUrl, parse_database_url
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE
from tests.support.db import admin_connection, create_database, insert_user, url_string
from tests.support.metrics import metrics_port, scrape, value


@dataclass(frozen=True)
class Replicated:
    primary: PrivateMariaDB
    replica: PrivateMariaDB
    primary_url: DatabaseUrl
    replica_url: DatabaseUrl

    def server_env(self, max_lag_s: float = 3.0, cache_mode: str = "off") -> dict[str, str]:
        """Without a cache unless asked: every lookup reaches the replica reads under test."""
        return {
            "FINDSVC_DB_URL": url_string(self.primary_url),
            "FINDSVC_DB_REPLICA_URLS": url_string(self.replica_url),
            "FINDSVC_DB_REPLICA_MAX_LAG_S": str(max_lag_s),
            "FINDSVC_CACHE_MODE": cache_mode,
        }

    @property
    def replica_label(self) -> str:
        return f"127.0.0.1:{self.replica.port}"


@contextmanager
def replicated_users_db() -> Iterator[Replicated]:
    """The AddService's table and the demo user on a primary, already applied on its replica."""
    primary, replica = PrivateMariaDB(server_id=1), PrivateMariaDB(server_id=2)
    try:
        primary.start()
        replica.start()
        start_replica(replica, primary)
        primary_url = replace(parse_database_url(primary.url), database="glarimy")
        replica_url = replace(primary_url, port=replica.port)
        create_database(primary_url)
        insert_user(primary_url, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
        assert applied(replica_url, position(primary_url), wait_s=30)
        yield Replicated(primary, replica, primary_url, replica_url)
    finally:
        replica.destroy()
        primary.destroy()


def _value(url: DatabaseUrl, sql: str, args: tuple[Any, ...] = ()) -> Any:
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(sql, args)
        row = cursor.fetchone()
        return row[1] if row and len(row) > 1 else (row[0] if row else None)


def position(url: DatabaseUrl) -> str:
    """The primary's GTID position: what a writer sends as x-read-after-gtid."""
    return str(_value(url, "SELECT @@gtid_binlog_pos"))


def applied(url: DatabaseUrl, gtid_position: str, wait_s: float = 0) -> bool:
    return bool(_value(url, "SELECT MASTER_GTID_WAIT(%s, %s)", (gtid_position, wait_s)) == 0)


def com_select(url: DatabaseUrl) -> int:
    """SELECT statements the server has run, from every client."""
    return int(_value(url, "SHOW GLOBAL STATUS LIKE 'Com_select'"))


def replication(url: DatabaseUrl, statement: str) -> None:
    """STOP SLAVE SQL_THREAD, START SLAVE SQL_THREAD and the like, on the replica."""
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(statement)


HEALTH_INTERVAL_S = 0.5  # devkit's server default
# Lag is measured once an interval, so a replica a moment behind can look an interval late;
# on a loaded machine checks run late too.
MAX_LAG_S = 3.0
# Room for a loaded two-core machine on top of a bound the service promises.
SLACK_S = 10.0
LOOKUPS = 500


def new_name() -> str:
    return f"replica{uuid.uuid4().hex[:12]}"


def add_user(replicated: Replicated, name: str) -> None:
    """As the AddService does: committed on the primary."""
    insert_user(replicated.primary_url, name, KRISHNA_PHONE, KRISHNA_SINCE)


def replica_healthy(server: ServerProcess, replicated: Replicated) -> float:
    samples = scrape(metrics_port(server))
    return value(samples, "findsvc_db_replica_healthy", replica=replicated.replica_label)


def lookups(server: ServerProcess, target: str) -> float:
    return value(scrape(metrics_port(server)), "findsvc_db_lookups_total", target=target)


def wait_for_health(
    server: ServerProcess, replicated: Replicated, healthy: bool, timeout_s: float = 30
) -> float:
    """Seconds until the server's checks find the replica (un)healthy."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if replica_healthy(server, replicated) == (1.0 if healthy else 0.0):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"replica never turned healthy={healthy}:\n{server.logs}")
