"""A DNS server on a loopback address of its own that answers one name, until told to go
silent: a resolver that never answers, as a hung DNS service looks from a pod."""

from __future__ import annotations

import random
import socket
import struct
import threading

A, IN = 1, 1


class LoopbackDns:
    """Answers A queries for `name` with `address` (and any other query with no records)
    while `silent` is False; with `silent` True, reads queries and answers none."""

    def __init__(self, name: str, address: str = "127.0.0.1") -> None:
        self._name = name.lower().rstrip(".")
        self._address = socket.inet_aton(address)
        self.silent = False
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # An address of its own in 127/8: port 53 there is free whatever else runs here.
        self.host = (
            f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
        )
        self._sock.bind((self.host, 53))
        self._closed = threading.Event()
        threading.Thread(target=self._serve, name="loopback-dns", daemon=True).start()

    def resolv_conf(self) -> str:
        """A resolv.conf pointing at this server, waiting long, as a hung service makes a
        client wait: 30 s, past every budget findsvc has."""
        return f"nameserver {self.host}\noptions timeout:30 attempts:1\n"

    def close(self) -> None:
        self._closed.set()
        self._sock.close()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                query, client = self._sock.recvfrom(512)
            except OSError:
                return
            if not self.silent:
                self._sock.sendto(self._answer(query), client)

    def _answer(self, query: bytes) -> bytes:
        (query_id,) = struct.unpack(">H", query[:2])
        labels, end = [], 12
        while query[end]:
            labels.append(query[end + 1 : end + 1 + query[end]].decode())
            end += 1 + query[end]
        qtype, _qclass = struct.unpack(">HH", query[end + 1 : end + 5])
        question = query[12 : end + 5]
        found = ".".join(labels).lower() == self._name and qtype == A
        header = struct.pack(">HHHHHH", query_id, 0x8180, 1, int(found), 0, 0)
        if not found:
            return header + question
        record = struct.pack(">HHHIH", 0xC00C, A, IN, 0, 4) + self._address
        return header + question + record
