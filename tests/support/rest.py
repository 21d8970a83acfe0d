"""What the REST tests share: a ready Envoy in front of a findsvc, the bodies Envoy answers
with itself, and a caller that sends more body than Envoy takes."""

from __future__ import annotations

import json
import select
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from devkit.envoy import EnvoyProcess
from devkit.server import ServerProcess
from tests.support.load import wait_for

# Envoy's own replies (envoy.yaml, local_reply_config): a google.rpc.Status with a fixed
# message, never the caller's input.
MALFORMED = {
    "code": 3,
    "message": "malformed request: the name goes in the path, no query string, "
    "only known JSON fields",
    "details": [],
}
NO_SUCH_CALL = {"code": 5, "message": "no REST call has this method and path", "details": []}
BODY_TOO_LARGE = {"code": 8, "message": "request body over 65536 bytes", "details": []}
BODY_LIMIT = 65536

CHUNK = 64 * 1024  # bytes a caller writes at once


@contextmanager
def ready_envoy(server: ServerProcess) -> Iterator[EnvoyProcess]:
    with EnvoyProcess(server.port) as envoy:
        envoy.wait_ready()
        yield envoy


def logged(envoy: EnvoyProcess, path: str) -> dict[str, object]:
    """The last access log line of a request to `path` (as logged), once Envoy wrote it."""
    wait_for(lambda: any(e["path"] == path for e in envoy.access_log), timeout_s=15, step_s=0.1)
    return [e for e in envoy.access_log if e["path"] == path][-1]


def post_oversized(port: int, size: int, *, chunked: bool = False) -> tuple[int, object]:
    """POST a `size`-byte body to /users:batchFind as a client that keeps sending until Envoy
    answers (or takes it all): the status and JSON body Envoy answered with."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = (
        f"POST /users:batchFind HTTP/1.1\r\nHost: findsvc\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        for piece in _one_long_name(size):
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            except (BrokenPipeError, ConnectionResetError):
                break
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        return _read_reply(sock)


def _one_long_name(size: int) -> Iterator[bytes]:
    """{"names": ["aaa...a"]} of `size` bytes, in pieces: valid JSON whose one value a
    streaming parser must hold whole."""
    start, end = b'{"names": ["', b'"]}'
    left = size - len(start) - len(end)
    yield start
    while left > 0:
        yield b"a" * min(CHUNK, left)
        left -= CHUNK
    yield end


def _read_reply(sock: socket.socket) -> tuple[int, object]:
    received = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        head, blank_line, body = received.partition(b"\r\n\r\n")
        if blank_line:
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            if len(body) >= length:
                return int(head.split()[1]), json.loads(body[:length])
        data = sock.recv(CHUNK)
        if not data:
            break
        received += data
    raise AssertionError(f"no whole reply: {received[:200]!r}")


def health_check_attempts(envoy: EnvoyProcess) -> int:
    """Envoy's count of the health checks it sent findsvc (its admin stats)."""
    url = f"http://127.0.0.1:{envoy.admin_port}/stats?filter=^cluster.findsvc.health_check.attempt$"
    with urllib.request.urlopen(url, timeout=5) as reply:
        text: str = reply.read().decode()
    return int(text.split(":")[1])
