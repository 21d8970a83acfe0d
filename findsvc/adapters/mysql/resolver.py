"""The database host name, resolved within the connect budget.

PyMySQL connects with `socket.create_connection`, whose `getaddrinfo` takes no timeout: a
resolver that never answers holds the connecting thread for glibc's own timeouts (5 s times
the attempts times the name servers), past every budget, while readiness still says SERVING.
Here the lookup runs on a thread of its own and the caller waits no longer than its budget;
a hung lookup is shared by every caller meanwhile, so it holds one thread, not one per try.
The socket is then handed to PyMySQL, which still checks TLS against the host name.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

Address = tuple[socket.AddressFamily, Any]  # (host, port), or with flow info and scope for IPv6


class NameNotResolved(OSError):
    """The host name did not resolve, or not in time. The message names the host only."""


class Resolver:
    def __init__(self) -> None:
        self._lookups = ThreadPoolExecutor(1, thread_name_prefix="resolve")
        self._pending: dict[tuple[str, int], Future[list[Address]]] = {}
        self._lock = threading.Lock()

    def connect(self, host: str, port: int, timeout_s: float) -> socket.socket:
        """A TCP connection to the first address that answers, all within `timeout_s`.
        Raises NameNotResolved, or OSError from the connect."""
        deadline = time.monotonic() + timeout_s
        addresses = self._resolve(host, port, timeout_s)
        last_error: OSError = NameNotResolved(f"the database host name {host} has no address")
        for family, address in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                sock.connect(address)
            except OSError as error:
                sock.close()
                last_error = error
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            return sock
        raise last_error

    def _resolve(self, host: str, port: int, timeout_s: float) -> list[Address]:
        with self._lock:
            lookup = self._pending.get((host, port))
            if lookup is None or lookup.done():
                lookup = self._lookups.submit(_addresses, host, port)
                self._pending[(host, port)] = lookup
        try:
            return lookup.result(timeout=timeout_s)
        except FutureTimeout:
            raise NameNotResolved(
                f"the database host name {host} did not resolve in time (DNS)"
            ) from None
        except socket.gaierror:
            raise NameNotResolved(f"the database host name {host} does not resolve (DNS)") from None

    def close(self) -> None:
        self._lookups.shutdown(wait=False, cancel_futures=True)


def _addresses(host: str, port: int) -> list[Address]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [(family, address) for family, _type, _proto, _name, address in infos]
