"""gRPC-Web's frames, as a browser's grpc-web client writes and reads them: for the tests of
Envoy's grpc_web filter and the bench's gRPC-Web load alike."""

from __future__ import annotations

import struct

from google.protobuf.message import Message

TRAILER_FLAG = 0x80


def framed(message: Message) -> bytes:
    """One length-prefixed message, as gRPC and gRPC-Web carry it."""
    payload = message.SerializeToString()
    return b"\0" + struct.pack(">I", len(payload)) + payload


def unframed(data: bytes) -> tuple[list[bytes], dict[str, str]]:
    """A gRPC-Web body's messages, and the trailers of its trailer frame (none if it has none)."""
    messages, trailers = [], {}
    while data:
        flag, length = data[0], struct.unpack(">I", data[1:5])[0]
        chunk, data = data[5 : 5 + length], data[5 + length :]
        if flag & TRAILER_FLAG:
            for line in chunk.decode().split("\r\n"):
                if line:
                    name, _, value = line.partition(":")
                    trailers[name.strip().lower()] = value.strip()
        else:
            messages.append(chunk)
    return messages, trailers
