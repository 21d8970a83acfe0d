"""A cheap open-loop gRPC load generator: unary calls written as raw HTTP/2 frames.

Offering 3x a Python server's capacity through a gRPC client library costs 150-270 us of
client CPU per call (grpc.aio, measured in bench/overload.py's first version): on 2 cores
that takes a third of a core or more from the servers being measured. Here each call is two
pre-encoded frames (HEADERS with a fixed header block carrying `grpc-timeout`, then the
DATA frame of a pre-serialized request), written in batches over a few connections by one
thread; of the answers only the final HEADERS frame is read, and its grpc-status is looked
up in a cache keyed by the header block's bytes (the server may not index headers: we
announce a header table of size 0). Each point reports this process's own CPU time per call.
"""

from __future__ import annotations

import selectors
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import hpack

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_WINDOW = 2**31 - 1
RST_CODES = {7: "REFUSED_STREAM", 8: "CANCELLED"}
STATUS_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream) + payload


@dataclass
class Outcomes:
    codes: Counter[str] = field(default_factory=Counter)
    ok_s: list[float] = field(default_factory=list)  # latencies of the OK answers


class Connection:
    def __init__(
        self, host: str, port: int, path: str, metadata: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        settings = struct.pack(">HIHIHI", 0x1, 0, 0x2, 0, 0x4, MAX_WINDOW)  # table 0, no push
        self.sock.sendall(
            PREFACE
            + frame(SETTINGS, 0, 0, settings)
            + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", MAX_WINDOW - 65535))
        )
        self.sock.setblocking(False)
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", f"{host}:{port}"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("grpc-timeout", "250m"),
            *metadata,
        ]
        # Never indexed: the same bytes are valid on every stream.
        self.header_block = hpack.Encoder().encode(
            [hpack.NeverIndexedHeaderTuple(k, v) for k, v in headers], huffman=False
        )
        self.decoder = hpack.Decoder()
        self.next_stream = 1
        self.sent_at: dict[int, float] = {}
        self.outgoing = bytearray()
        self.incoming = bytearray()
        self.gone = False

    def queue_call(self, data_frame_payload: bytes, now: float) -> None:
        stream = self.next_stream
        self.next_stream += 2
        self.outgoing += frame(HEADERS, END_HEADERS, stream, self.header_block)
        self.outgoing += frame(DATA, END_STREAM, stream, data_frame_payload)
        self.sent_at[stream] = now

    def flush(self) -> None:
        if self.outgoing and not self.gone:
            try:
                sent = self.sock.send(self.outgoing)
            except BlockingIOError:
                return
            del self.outgoing[:sent]


class OpenLoop:
    """Calls `path` at `rate` a second over `connections` connections, whatever the answers;
    `metadata` goes with every call (say, a caller's bearer token)."""

    def __init__(
        self,
        target: str,
        path: str,
        requests: list[bytes],
        connections: int,
        metadata: tuple[tuple[str, str], ...] = (),
    ) -> None:
        host, _, port = target.rpartition(":")
        self._connect = lambda: Connection(host, int(port), path, metadata)
        self._connections = [self._connect() for _ in range(connections)]
        self._bodies = [b"\0" + struct.pack(">I", len(r)) + r for r in requests]
        self._status_of: dict[bytes, str] = {}
        self._selector = selectors.DefaultSelector()
        for connection in self._connections:
            self._selector.register(connection.sock, selectors.EVENT_READ, connection)

    def run(
        self, rate: float, seconds: float, counted_after_s: float, deadline_s: float
    ) -> Outcomes:
        """Open loop: `rate` calls a second for `seconds`, whatever the answers."""
        return self._drive(
            lambda elapsed, sent, _pending: int(elapsed * rate) + 1 - sent,
            1 / rate,
            seconds,
            counted_after_s,
            deadline_s,
        )

    def closed_loop(
        self, in_flight: int, seconds: float, counted_after_s: float, deadline_s: float
    ) -> Outcomes:
        """Closed loop: a new call as soon as one of `in_flight` is answered."""
        return self._drive(
            lambda _elapsed, _sent, pending: in_flight - pending,
            0.01,
            seconds,
            counted_after_s,
            deadline_s,
        )

    def _drive(
        self,
        to_send: Callable[[float, int, int], int],
        wait_s: float,
        seconds: float,
        counted_after_s: float,
        deadline_s: float,
    ) -> Outcomes:
        """Sends what `to_send(elapsed, sent, pending)` says for `seconds`, then waits for the
        answers; counts the calls sent `counted_after_s` or later. An OK answer after
        `deadline_s` counts as OK_TOO_LATE."""
        outcomes = Outcomes()
        sent = 0
        start = time.perf_counter()
        counted: dict[tuple[int, int], bool] = {}
        while True:
            now = time.perf_counter()
            elapsed = now - start
            pending = sum(len(c.sent_at) for c in self._connections)
            if elapsed >= seconds:
                if pending == 0 or elapsed > seconds + 2 * deadline_s + 1:
                    outcomes.codes["NO_ANSWER"] += pending
                    return outcomes
            else:
                for _ in range(to_send(elapsed, sent, pending)):
                    connection = self._connections[sent % len(self._connections)]
                    if connection.gone:  # sent away (GOAWAY): a new one takes its turn
                        connection = self._replace(connection)
                    if elapsed >= counted_after_s:
                        counted[(id(connection), connection.next_stream)] = True
                    connection.queue_call(self._bodies[sent % len(self._bodies)], now)
                    sent += 1
            for connection in self._connections:
                connection.flush()
            for key, _ in self._selector.select(timeout=wait_s):
                self._read(key.data, outcomes, counted, deadline_s)

    def close(self) -> None:
        for connection in self._connections:
            self._selector.unregister(connection.sock)
            connection.sock.close()

    def _replace(self, old: Connection) -> Connection:
        new = self._connect()
        self._connections[self._connections.index(old)] = new
        self._selector.register(new.sock, selectors.EVENT_READ, new)
        return new

    def _read(
        self,
        connection: Connection,
        outcomes: Outcomes,
        counted: dict[tuple[int, int], bool],
        deadline_s: float,
    ) -> None:
        try:
            chunk = connection.sock.recv(1 << 18)
        except BlockingIOError:
            return
        if not chunk:
            connection.gone = True
            self._selector.unregister(connection.sock)
            for stream in list(connection.sent_at):
                self._finish(connection, stream, "UNAVAILABLE", outcomes, counted, deadline_s)
            return
        buffer = connection.incoming
        buffer += chunk
        offset = 0
        while len(buffer) - offset >= 9:
            length = int.from_bytes(buffer[offset : offset + 3], "big")
            if len(buffer) - offset < 9 + length:
                break
            kind, flags = buffer[offset + 3], buffer[offset + 4]
            stream = int.from_bytes(buffer[offset + 5 : offset + 9], "big") & 0x7FFFFFFF
            start = offset + 9
            offset = start + length
            if kind == HEADERS and flags & END_STREAM:
                code = self._status(connection, bytes(buffer[start:offset]))
                self._finish(connection, stream, code, outcomes, counted, deadline_s)
            elif kind == RST_STREAM:
                # REFUSED_STREAM: past the server's streams per connection, never started (a
                # gRPC client would have waited for a free stream, or retried).
                error = int.from_bytes(buffer[start:offset], "big")
                code = RST_CODES.get(error, f"RST_STREAM_{error}")
                self._finish(connection, stream, code, outcomes, counted, deadline_s)
            elif kind == SETTINGS and not flags & ACK:
                connection.outgoing += frame(SETTINGS, ACK, 0)
            elif kind == PING and not flags & ACK:
                connection.outgoing += frame(PING, ACK, 0, bytes(buffer[start:offset]))
            elif kind == GOAWAY:
                connection.gone = True
        del buffer[:offset]

    def _status(self, connection: Connection, block: bytes) -> str:
        code = self._status_of.get(block)
        if code is None:
            headers = dict(connection.decoder.decode(block))
            number = int(headers.get("grpc-status", 2))
            code = STATUS_NAMES.get(number, str(number))
            self._status_of[block] = code
        return code

    def _finish(
        self,
        connection: Connection,
        stream: int,
        code: str,
        outcomes: Outcomes,
        counted: dict[tuple[int, int], bool],
        deadline_s: float,
    ) -> None:
        sent_at = connection.sent_at.pop(stream, None)
        if sent_at is None or not counted.pop((id(connection), stream), False):
            return
        latency = time.perf_counter() - sent_at
        if code == "OK" and latency > deadline_s:
            code = "OK_TOO_LATE"
        outcomes.codes[code] += 1
        if code == "OK":
            outcomes.ok_s.append(latency)
