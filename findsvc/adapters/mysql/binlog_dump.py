"""The follower's binlog dump: one connection per session, which any thread may cut."""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import pymysql
from pymysqlreplication import BinLogStreamReader

from findsvc.adapters.mysql.binlog_position import BinlogPosition
from findsvc.adapters.mysql.binlog_rows import TABLE

if TYPE_CHECKING:  # PyMySQL's Connection is generic only in its stubs
    Connect: TypeAlias = Callable[..., pymysql.connections.Connection[Any]]


class FeedCut(Exception):
    """The dump connection ended: the session is over (the library would reconnect silently)."""


class Dump:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._stream: pymysql.connections.Connection[Any] | None = None

    def reader(
        self,
        connect_args: dict[str, Any],
        start: BinlogPosition,
        heartbeat_s: float,
        events: list[type[Any]],
    ) -> BinLogStreamReader:
        """ums_users' changes from `start`, and `events`, until the dump is cut."""
        return BinLogStreamReader(
            {k: v for k, v in connect_args.items() if k != "database"},
            # Unique among the server's replicas, or the server drops the older dump.
            server_id=(1 << 20) + secrets.randbelow((1 << 32) - (1 << 21)),
            blocking=True,
            resume_stream=True,
            log_file=start.file,
            log_pos=start.offset,
            only_schemas=[connect_args["database"]],
            only_tables=[TABLE],
            only_events=events,
            slave_heartbeat=heartbeat_s,
            pymysql_wrapper=self._opener(),
            enable_logging=False,
        )

    def _opener(self) -> Connect:
        """pymysql.connect for the library: its control connection, and the dump connection
        once. A second dump connection would be the library hiding a cut: refused."""
        opened: list[bool] = []

        def open_connection(**settings: Any) -> pymysql.connections.Connection[Any]:
            if settings.get("db") == "information_schema":
                settings["database"] = settings.pop("db")  # PyMySQL's name for it now
                return self._connect(**settings)
            if opened:
                raise FeedCut("the binlog feed was cut")
            opened.append(True)
            self._stream = self._connect(**settings)
            return self._stream

        return open_connection

    def cut(self) -> None:
        """From any thread: ends the dump; the follower's blocked read fails at once."""
        stream = self._stream
        sock = getattr(stream, "_sock", None) if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
