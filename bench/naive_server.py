"""COMPARISON BASELINE ONLY, not findsvc: the naive implementation the issue measured.

A sync gRPC server with 16 worker threads and one persistent PyMySQL connection per thread,
and nothing else (no validation, health, metrics or logs). `make bench` runs it next to findsvc.
Usage: python -m bench.naive_server PORT MYSQL_HOST MYSQL_PORT DATABASE
"""

from __future__ import annotations

import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import grpc
import pymysql
from google.protobuf.timestamp_pb2 import Timestamp

from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc


class NaiveServicer(find_service_pb2_grpc.FindServiceServicer):
    def __init__(self, host: str, port: int, database: str) -> None:
        self._args = {"host": host, "port": port, "user": "root", "database": database}
        self._local = threading.local()

    def FindUser(self, request, context):  # type: ignore[no-untyped-def]
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = pymysql.connect(autocommit=True, **self._args)
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT name, phone, since FROM ums_users WHERE name = %s LIMIT 1", (request.name,)
            )
            row = cursor.fetchone()
        if row is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "not found")
        since = Timestamp()
        since.FromDatetime(row[2].replace(tzinfo=UTC))
        return find_service_pb2.UserRecord(name=row[0], phone=row[1], since=since)


def main() -> None:
    port, host, db_port, database = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    server = grpc.server(ThreadPoolExecutor(max_workers=16), options=[("grpc.so_reuseport", 0)])
    find_service_pb2_grpc.add_FindServiceServicer_to_server(
        NaiveServicer(host, db_port, database), server
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    server.wait_for_termination()


if __name__ == "__main__":
    main()
