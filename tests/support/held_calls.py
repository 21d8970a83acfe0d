"""FindUser calls held on a locked table: a server busy on every worker, or mid-shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import grpc

from devkit.server import ServerProcess
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, find
from tests.support.db import admin_connection, table_locked, url_string
from tests.support.load import wait_for


def held_calls_env(url: DatabaseUrl, **settings: str) -> dict[str, str]:
    """A server whose calls may wait on a lock: a DB cap past the test, and no readiness
    check of its own to wait on the lock too."""
    return {
        "FINDSVC_DB_URL": url_string(url),
        "FINDSVC_HEALTH_INTERVAL_S": "60",
        "FINDSVC_DB_TIMEOUT_S": "20",
        **settings,
    }


class CallsInFlight:
    """FindUser calls started in threads, each keeping its status code."""

    def __init__(self, target: str) -> None:
        self._channel = grpc.insecure_channel(target)
        self.codes: list[grpc.StatusCode] = []
        self._threads: list[threading.Thread] = []

    def start(self, count: int, name: str = KRISHNA) -> None:
        for _ in range(count):
            thread = threading.Thread(
                target=lambda: self.codes.append(find(self._channel, name, timeout_s=30))
            )
            thread.start()
            self._threads.append(thread)

    def join(self) -> list[grpc.StatusCode]:
        for thread in self._threads:
            thread.join(timeout=30)
        self._channel.close()
        return self.codes


@contextmanager
def calls_held_by_a_table_lock(
    server: ServerProcess, url: DatabaseUrl, count: int
) -> Iterator[CallsInFlight]:
    """`count` FindUser calls, all waiting on `LOCK TABLES ums_users WRITE` until the block ends."""
    with table_locked(url):
        in_flight = CallsInFlight(server.target)
        in_flight.start(count)
        wait_for(lambda: finds_waiting_on_the_lock(url) == count, 10)
        yield in_flight


def finds_waiting_on_the_lock(url: DatabaseUrl) -> int:
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.processlist"
            " WHERE db = %s AND info LIKE 'SELECT name, phone, since%%'",
            (url.database,),
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0
