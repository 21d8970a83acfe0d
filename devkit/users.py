"""Many users in a private MariaDB, for the bench and the dashboard demo."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pymysql

from devkit.mariadb import PrivateMariaDB

SCHEMA = Path(__file__).resolve().parent.parent / "findsvc" / "adapters" / "mysql" / "schema.sql"
USER_NAME = "BenchUser{:06d}"  # the seeded users: BenchUser000000, BenchUser000001...
BATCH = 5000


def seed_users(server: PrivateMariaDB, users: int) -> list[str]:
    """Creates the AddService's table in a new `glarimy` database, with `users` users; returns
    their names."""
    names = [USER_NAME.format(i) for i in range(users)]
    since = datetime(2020, 1, 1)
    connection = pymysql.connect(host="127.0.0.1", port=server.port, user="root", autocommit=True)
    with connection as conn, conn.cursor() as cursor:
        cursor.execute("CREATE DATABASE glarimy")
        cursor.execute("USE glarimy")
        cursor.execute(SCHEMA.read_text())
        for start in range(0, users, BATCH):
            cursor.executemany(
                "INSERT INTO ums_users (name, phone, since) VALUES (%s, %s, %s)",
                [
                    (name, 9000000000 + start + i, since)
                    for i, name in enumerate(names[start : start + BATCH])
                ],
            )
    return names
