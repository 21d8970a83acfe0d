"""Idle HTTP/2 connections, as a careless or hostile client leaves them: the preface and
SETTINGS, then nothing."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = struct.pack(">I", 0)[1:] + struct.pack(">BBI", 4, 0, 0)


@contextmanager
def idle_connections(
    port: int, count: int, hello: bytes = PREFACE + EMPTY_SETTINGS
) -> Iterator[list[socket.socket]]:
    """`count` connections to the port, each having said `hello` (HTTP/2's, unless told);
    all closed on the way out."""
    opened: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(hello)
            sock.setblocking(False)
            opened.append(sock)
        yield opened
    finally:
        for sock in opened:
            sock.close()


def still_open(sock: socket.socket) -> bool:
    """False once the server has closed it (reads end); what the server sent is skipped."""
    try:
        while sock.recv(65536):
            pass
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def open_count(socks: list[socket.socket]) -> int:
    return sum(still_open(sock) for sock in socks)
