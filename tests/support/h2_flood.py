"""A hostile client's flood: unary gRPC calls written as raw HTTP/2 on one connection, as many
in flight as the server allows, whatever the answers, until stopped."""

from __future__ import annotations

import socket
import struct
import threading
from collections import Counter

import h2.config
import h2.connection
import h2.events
import h2.exceptions


class Flood(threading.Thread):
    """`with Flood(port, path, request):` floods for the block's length; `answers` counts
    the grpc-status of each answer, or RST_STREAM, as the server gave them."""

    def __init__(self, port: int, path: str, request: bytes, in_flight: int = 200) -> None:
        super().__init__(name=f"flood {path}", daemon=True)
        self._port = port
        self._path = path
        self._body = b"\0" + struct.pack(">I", len(request)) + request
        self._in_flight = in_flight
        self._stopping = threading.Event()
        self.answers: Counter[str] = Counter()

    def __enter__(self) -> Flood:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        self.join(timeout=10)

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._flood_one_connection()
            except (OSError, h2.exceptions.ProtocolError):
                self.answers["connection lost"] += 1

    def _flood_one_connection(self) -> None:
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        conn = h2.connection.H2Connection(config=config)
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", self._path),
            (":authority", f"127.0.0.1:{self._port}"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("grpc-timeout", "1S"),
        ]
        with socket.create_connection(("127.0.0.1", self._port), timeout=5) as sock:
            conn.initiate_connection()
            sock.sendall(conn.data_to_send())
            open_streams: set[int] = set()
            while not self._stopping.is_set():
                room = min(self._in_flight, conn.remote_settings.max_concurrent_streams)
                while len(open_streams) < room and conn.open_outbound_streams < room:
                    stream = conn.get_next_available_stream_id()
                    conn.send_headers(stream, headers)
                    conn.send_data(stream, self._body, end_stream=True)
                    open_streams.add(stream)
                sock.sendall(conn.data_to_send())
                data = sock.recv(65536)
                if not data:
                    return
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.DataReceived):
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.TrailersReceived | h2.events.ResponseReceived):
                        status = dict(event.headers).get("grpc-status")
                        if status is not None:
                            self.answers[status] += 1
                    elif isinstance(event, h2.events.StreamReset):
                        self.answers["RST_STREAM"] += 1
                    if isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                        open_streams.discard(event.stream_id)
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        return
                sock.sendall(conn.data_to_send())

    @property
    def answered(self) -> int:
        return sum(count for status, count in self.answers.items() if status != "connection lost")
