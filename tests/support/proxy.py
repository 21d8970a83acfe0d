"""A loopback TCP proxy in front of any MySQL: cut it for an outage, hang it for a hung DB.

It serves any TCP server as well. With `record=True`, `forwarded` holds every byte it passed
on, both ways: what went over the wire.

- `down()`: open connections are reset and new ones refused, as when mysqld stops.
- `hang()`: connections are accepted but nothing comes back, as with a hung server or a
  network partition that drops packets.
- `up()`: forwards again; what was cut or hung stays gone, as after a restart.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from devkit.mariadb import free_port


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, record: bool = False) -> None:
        self._target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._mode = "up"
        self._record = record
        self.forwarded = bytearray()
        self._listener: socket.socket | None = None
        self._open_listener()

    # -- switching ------------------------------------------------------------------------
    def down(self) -> None:
        with self._lock:
            self._mode = "down"
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._reset_all()

    def hang(self) -> None:
        with self._lock:
            self._mode = "hang"
        if self._listener is None:
            self._open_listener()

    def up(self) -> None:
        with self._lock:
            self._mode = "up"
        self._reset_all()  # hung connections end, as a restarted server's would
        if self._listener is None:
            self._open_listener()

    def close(self) -> None:
        self.down()

    # -- plumbing -------------------------------------------------------------------------
    def _open_listener(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            self._track(client)
            if self._mode == "hang":
                continue  # accepted, never answered
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                self._reset(client)
                continue
            self._track(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data or self._mode == "down":
                    break
                if self._mode == "up":
                    sink.sendall(data)  # when hung, the bytes are dropped
                    if self._record:
                        with self._lock:
                            self.forwarded += data
        except OSError:
            pass
        finally:
            self._reset(source)
            self._reset(sink)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _reset_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            self._reset(sock)

    def _reset(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            # Linger 0: the peer gets an RST at once, as from a crashed server.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()
