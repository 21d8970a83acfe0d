"""The bearer token a FindClient sends: fixed, or read from a file again whenever it changes."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

import grpc


class Bearer(Protocol):
    def header(self) -> str: ...


class FixedToken:
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def header(self) -> str:
        return self._header


class TokenFile:
    """The token in a file, read again when the file changes (its inode, mtime or size: the
    kubelet swaps a projected token's symlink). A stat a call; the file is read only then."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._header = ""
        self.header()  # an unreadable file is the caller's error now, not at the first call

    def header(self) -> str:
        stat = os.stat(self._path)
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._header = f"Bearer {self._path.read_text(encoding='utf-8').strip()}"
                self._stamp = stamp
            return self._header


class BearerPlugin(grpc.AuthMetadataPlugin):
    """Call credentials over TLS: gRPC asks for the header at every call."""

    def __init__(self, bearer: Bearer) -> None:
        self._bearer = bearer

    def __call__(
        self, context: grpc.AuthMetadataContext, callback: grpc.AuthMetadataPluginCallback
    ) -> None:
        try:
            callback((("authorization", self._bearer.header()),), None)
        except OSError as error:  # the call fails UNAVAILABLE, saying the token was unreadable
            callback((), OSError(f"cannot read the token file ({type(error).__name__})"))
