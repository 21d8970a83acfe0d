"""The servers under load: the private MariaDB's users, and starting a scenario's server.

Each scenario's server is its own process on a free port; the naive reference and the ceilings
serve no health, so a server is up when a FindUser is answered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import grpc
import pymysql

from bench.scenarios import Scenario
from devkit.mariadb import PrivateMariaDB, free_port
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

SCHEMA = Path(__file__).resolve().parent.parent / "findsvc" / "adapters" / "mysql" / "schema.sql"
USER_NAME = "BenchUser{:06d}"  # the seeded users: BenchUser000000, BenchUser000001...


def seed(server: PrivateMariaDB, users: int) -> list[str]:
    names = [USER_NAME.format(i) for i in range(users)]
    since = datetime(2020, 1, 1)
    connection = pymysql.connect(host="127.0.0.1", port=server.port, user="root", autocommit=True)
    with connection as conn, conn.cursor() as cursor:
        cursor.execute("CREATE DATABASE glarimy")
        cursor.execute("USE glarimy")
        cursor.execute(SCHEMA.read_text())
        for start in range(0, users, 5000):
            cursor.executemany(
                "INSERT INTO ums_users (name, phone, since) VALUES (%s, %s, %s)",
                [
                    (name, 9000000000 + start + i, since)
                    for i, name in enumerate(names[start : start + 5000])
                ],
            )
    return names


@contextmanager
def seeded_database(users: int, who: str) -> Iterator[tuple[PrivateMariaDB, list[str]]]:
    """A private MariaDB holding `users` users, and their names; destroyed afterwards."""
    print(f"{who}: starting a private MariaDB with {users:,} users", file=sys.stderr)
    database = PrivateMariaDB()
    database.start()
    try:
        yield database, seed(database, users)
    finally:
        database.destroy()


def start_server(
    scenario: Scenario, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The scenario's server, answering on the returned target (on `port`, else a free one);
    killed if it never does."""
    port = port or free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FINDSVC_")},
        "FINDSVC_HOST": "127.0.0.1",
        "FINDSVC_PORT": str(port),
        "FINDSVC_METRICS_PORT": "0",
        "FINDSVC_DRAIN_S": "0",
        "FINDSVC_GRACE_S": "1",
        **scenario.env,
    }
    command = [part.replace("{port}", str(port)) for part in scenario.command]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    target = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    with grpc.insecure_channel(target) as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        while time.monotonic() < deadline:
            try:
                stub.FindUser(find_service_pb2.FindUserRequest(name=USER_NAME.format(0)), timeout=1)
                return process, target
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNAUTHENTICATED:  # up, with token auth on
                    return process, target
                time.sleep(0.2)
    process.kill()
    process.wait()
    raise SystemExit(f"bench: {scenario.key} did not start")


def stop_servers(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)
