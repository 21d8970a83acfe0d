"""What the browser-facing tests share: gRPC-Web and Connect requests in their wire formats,
as a browser's grpc-web or Connect client sends them, through a real Envoy."""

from __future__ import annotations

import base64
import urllib.parse
from dataclasses import dataclass

from google.protobuf.message import Message

from devkit.envoy import EnvoyProcess, Reply
from devkit.grpc_web import framed, unframed

SERVICE = "/glarimy.ums.find.v1.FindService/"


@dataclass(frozen=True)
class GrpcWebAnswer:
    status: int  # the HTTP status: 200 whatever the gRPC status
    headers: dict[str, str]
    messages: tuple[bytes, ...]
    trailers: dict[str, str]  # from the trailer frame, or the headers of a trailers-only answer

    @property
    def grpc_status(self) -> int:
        return int(self.trailers["grpc-status"])


def grpc_web(
    envoy: EnvoyProcess, method: str, request: Message, *, text: bool = False
) -> GrpcWebAnswer:
    """A unary gRPC-Web call: binary (application/grpc-web+proto), or text (base64)."""
    body = framed(request)
    content_type = "application/grpc-web-text" if text else "application/grpc-web+proto"
    headers = {"Content-Type": content_type, "x-grpc-web": "1", "accept": content_type}
    reply = envoy.request_raw(
        "POST", SERVICE + method, base64.b64encode(body) if text else body, headers
    )
    data = _from_text(reply.body) if text else reply.body
    messages, trailers = unframed(data)
    if not trailers:  # trailers-only: the status is in the headers
        trailers = {k: v for k, v in reply.headers.items() if k.startswith("grpc-")}
    return GrpcWebAnswer(reply.status, reply.headers, tuple(messages), trailers)


def _from_text(body: bytes) -> bytes:
    """grpc-web-text: each frame base64-encoded on its own, padding included, one after another."""
    return b"".join(base64.b64decode(body[i : i + 4]) for i in range(0, len(body), 4))


CONNECT = {"connect-protocol-version": "1"}


def connect_json(
    envoy: EnvoyProcess, method: str, body: object, headers: dict[str, str] | None = None
) -> Reply:
    """A unary Connect call with the JSON codec, as connect-es sends it by default."""
    return envoy.request("POST", SERVICE + method, body, {**CONNECT, **(headers or {})})


def connect_proto(envoy: EnvoyProcess, method: str, request: Message) -> Reply:
    """A unary Connect POST with the protobuf codec."""
    headers = {**CONNECT, "Content-Type": "application/proto"}
    return envoy.request_raw("POST", SERVICE + method, request.SerializeToString(), headers)


def connect_get(
    envoy: EnvoyProcess, method: str, request: Message, headers: dict[str, str] | None = None
) -> Reply:
    """A Connect GET: the message base64url-encoded (unpadded) in the query string."""
    message = base64.urlsafe_b64encode(request.SerializeToString()).decode().rstrip("=")
    query = urllib.parse.urlencode(
        {"connect": "v1", "encoding": "proto", "base64": "1", "message": message}
    )
    return envoy.request("GET", f"{SERVICE}{method}?{query}", headers=headers)
