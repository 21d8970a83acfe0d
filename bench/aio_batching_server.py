"""EXPERIMENT, not findsvc: FindUser on grpc.aio, every lookup batched by one DB thread.

The question it answers: would an asyncio server beat findsvc's sync one? Its handlers never
block a thread (a call awaits a future), and one thread runs findsvc's own MySQL adapter,
one `WHERE name IN (...)` query for whatever lookups are pending, so GIL hand-offs are paid
per batch, not per call. No validation errors, metrics, logs or health: only the hot path.
`make bench` runs it with BENCH_SCENARIOS=...,aio_batching.
Usage: python -m bench.aio_batching_server PORT MYSQL_URL
"""

from __future__ import annotations

import asyncio
import calendar
import sys
import threading

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.config import parse_database_url
from findsvc.domain.model import Name, User
from findsvc.domain.ports import Lookup
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

MAX_BATCH = 100


class Batcher:
    """Lookups from the event loop, answered by one DB thread, a query per batch."""

    def __init__(self, users: MySqlUserRepository, loop: asyncio.AbstractEventLoop) -> None:
        self._users = users
        self._loop = loop
        self._pending: list[tuple[Name, asyncio.Future[Lookup | Exception]]] = []
        self._ready = threading.Condition()
        threading.Thread(target=self._run, name="db", daemon=True).start()

    def find(self, name: Name) -> asyncio.Future[Lookup | Exception]:
        future: asyncio.Future[Lookup | Exception] = self._loop.create_future()
        with self._ready:
            self._pending.append((name, future))
            if len(self._pending) == 1:
                self._ready.notify()
        return future

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending:
                    self._ready.wait()
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
            outcomes: list[Lookup | Exception]
            try:
                outcomes = list(self._users.get_many([name for name, _ in batch]))
            except Exception as error:
                outcomes = [error] * len(batch)
            self._loop.call_soon_threadsafe(_resolve, [f for _, f in batch], outcomes)


def _resolve(
    futures: list[asyncio.Future[Lookup | Exception]], outcomes: list[Lookup | Exception]
) -> None:
    for future, outcome in zip(futures, outcomes, strict=True):
        if not future.done():  # the call may have been cancelled meanwhile
            future.set_result(outcome)


def _record(user: User) -> find_service_pb2.UserRecord:
    # Integer arithmetic, exact to the microsecond and cheaper than Timestamp.FromDatetime.
    seconds = calendar.timegm(user.since.utctimetuple())
    since = Timestamp(seconds=seconds, nanos=user.since.microsecond * 1000)
    return find_service_pb2.UserRecord(name=user.name.value, phone=user.phone.value, since=since)


class BatchingServicer(find_service_pb2_grpc.FindServiceServicer):
    def __init__(self, batcher: Batcher) -> None:
        self._batcher = batcher

    async def FindUser(self, request, context):  # type: ignore[no-untyped-def]
        outcome = await self._batcher.find(Name.parse(request.name))
        if isinstance(outcome, User):
            return _record(outcome)
        await context.abort(grpc.StatusCode.NOT_FOUND, "no user has that name")


async def serve(port: str, db_url: str) -> None:
    users = MySqlUserRepository(parse_database_url(db_url), None, 1, 2.0, 5.0)
    server = grpc.aio.server()
    batcher = Batcher(users, asyncio.get_running_loop())
    find_service_pb2_grpc.add_FindServiceServicer_to_server(BatchingServicer(batcher), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
