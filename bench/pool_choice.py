"""Client CPU per checkout + query + checkin: findsvc's pool against SQLAlchemy's and DBUtils'.

The numbers behind "Why findsvc keeps its own pool" (docs/configuration.md). One thread, on a
private MariaDB; run after `make bench` (which installs the bench extra):
    .venv/bin/python -m bench.pool_choice [CALLS_PER_ROUND]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import pymysql
from dbutils.pooled_db import PooledDB
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.pool import QueuePool

from devkit.mariadb import PrivateMariaDB
from findsvc.adapters.mysql.pool import ConnectionPool

FIND = "SELECT name, phone, since FROM ums_users WHERE name = %s LIMIT 1"
ROUNDS = 5
SIZE = 2


def candidates(connect: Callable[[], Any]) -> dict[str, Callable[[], None]]:
    bare = connect()
    ours: ConnectionPool[Any] = ConnectionPool(connect, SIZE, max_idle_s=180)
    queue_pools = {
        pre_ping: QueuePool(
            connect,
            pool_size=SIZE,
            max_overflow=0,
            timeout=5,
            pre_ping=pre_ping,
            dialect=MySQLDialect_pymysql(),
            reset_on_return=None,  # autocommit reads: nothing to roll back
        )
        for pre_ping in (False, True)
    }
    connect.threadsafety = 1  # type: ignore[attr-defined]  # DBUtils asks the creator
    pooled_dbs = {
        ping: PooledDB(connect, maxconnections=SIZE, maxcached=SIZE, blocking=True, ping=ping)
        for ping in (0, 1)
    }

    def query(conn: Any) -> None:
        cursor = conn.cursor()
        cursor.execute(FIND, ("KrishnaMohan",))
        cursor.fetchall()
        cursor.close()

    def with_ours() -> None:
        with ours.connection(5.0) as (conn, _reused):
            query(conn)

    def checked_out(pool: Any, method: str) -> Callable[[], None]:
        def call() -> None:
            conn = getattr(pool, method)()
            try:
                query(conn)
            finally:
                conn.close()  # back to the pool

        return call

    return {
        "one bare connection, no pool (floor)": lambda: query(bare),
        "findsvc ConnectionPool": with_ours,
        "SQLAlchemy QueuePool, no pre-ping": checked_out(queue_pools[False], "connect"),
        "SQLAlchemy QueuePool, pre_ping=True": checked_out(queue_pools[True], "connect"),
        "DBUtils PooledDB, ping=0": checked_out(pooled_dbs[0], "connection"),
        "DBUtils PooledDB, ping=1 (on checkout)": checked_out(pooled_dbs[1], "connection"),
    }


class _NoConnection:
    """For the pools' own cost: nothing to close, roll back or ping."""

    def close(self) -> None: ...

    def rollback(self) -> None: ...

    def ping(self, reconnect: bool = False) -> None: ...


def pool_alone(calls: int) -> None:
    """Checkout + checkin only, without a database: the pools' own CPU, with less noise."""
    ours: ConnectionPool[Any] = ConnectionPool(_NoConnection, SIZE, max_idle_s=180)
    queue_pool = QueuePool(
        _NoConnection, pool_size=SIZE, max_overflow=0, timeout=5, reset_on_return=None
    )

    def with_ours() -> None:
        with ours.connection(5.0):
            pass

    def with_queue_pool() -> None:
        queue_pool.connect().close()

    cpu: dict[str, list[float]] = {"findsvc ConnectionPool": [], "SQLAlchemy QueuePool": []}
    for _ in range(ROUNDS):
        for name, call in zip(cpu, (with_ours, with_queue_pool), strict=True):
            started = time.process_time()
            for _ in range(calls * 10):
                call()
            cpu[name].append((time.process_time() - started) / (calls * 10) * 1e6)
    for name, samples in cpu.items():
        print(f"pool alone: {name:30s} {statistics.median(samples):6.1f} µs CPU per checkout")


def main(calls: int) -> None:
    pool_alone(calls)
    server = PrivateMariaDB()
    server.start()
    try:
        with (
            pymysql.connect(
                host="127.0.0.1", port=server.port, user="root", autocommit=True
            ) as admin,
            admin.cursor() as cursor,
        ):
            cursor.execute("CREATE DATABASE bench")
            cursor.execute(
                "CREATE TABLE bench.ums_users"
                " (name VARCHAR(255) PRIMARY KEY, phone BIGINT, since DATETIME(6))"
            )
            cursor.execute("INSERT INTO bench.ums_users VALUES ('KrishnaMohan', 9731423166, NOW())")

        def connect() -> Any:
            return pymysql.connect(
                host="127.0.0.1",
                port=server.port,
                user="root",
                database="bench",
                autocommit=True,
                charset="utf8mb4",
                ssl_disabled=True,
            )

        calls_by_name = candidates(connect)
        cpu: dict[str, list[float]] = {name: [] for name in calls_by_name}
        for call in calls_by_name.values():  # warm up
            for _ in range(200):
                call()
        for _ in range(ROUNDS):  # interleaved, so drift in machine load hits every pool alike
            for name, call in calls_by_name.items():
                started = time.process_time()
                for _ in range(calls):
                    call()
                cpu[name].append((time.process_time() - started) / calls * 1e6)
        for name, samples in cpu.items():
            print(f"{name:42s} {statistics.median(samples):6.1f} µs client CPU per call")
    finally:
        server.destroy()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
