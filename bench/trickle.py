"""A trickle of AddService writes during the bench: phones of hot-set users change, so a
cache that follows the table evicts (and asks again) as it would in production."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pymysql


@contextmanager
def trickle(db_port: int, names: list[str], per_s: float) -> Iterator[list[int]]:
    """Changes one random user of `names` `per_s` times a second until the block ends; yields
    a list that holds the count of writes once it has."""
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        done = 0
        connection = pymysql.connect(
            host="127.0.0.1", port=db_port, user="root", database="glarimy", autocommit=True
        )
        with connection as conn, conn.cursor() as cursor:
            while not stop.wait(1 / per_s):
                cursor.execute(
                    "UPDATE ums_users SET phone = phone + 1 WHERE name = %s",
                    (random.choice(names),),
                )
                done += 1
        written.append(done)

    writer = threading.Thread(target=write, name="bench-trickle", daemon=True)
    if per_s > 0:
        writer.start()
    try:
        yield written
    finally:
        stop.set()
        if writer.is_alive():
            writer.join(10)
