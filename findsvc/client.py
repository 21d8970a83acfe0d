"""A typed Python client for FindService.

    with FindClient("dns:///findsvc.ums.svc.cluster.local:50051") as client:
        user = client.find("KrishnaMohan")            # a UserRecord, or a typed FindError
        batch = client.find_many(["KrishnaMohan", "NoSuchUser1"])

- Every call has a deadline (5 s unless told).
- UNAVAILABLE and CANCELLED are retried by gRPC itself (service config retryPolicy: 3
  attempts, backoff), which is safe: finding is read-only and idempotent. A deadline that
  runs out is DEADLINE_EXCEEDED, never retried; RESOURCE_EXHAUSTED (a server shedding load)
  is not retried at once: retry it yourself after a backoff (docs/load-balancing.md).
- Client-side health checking: the channel watches each server's readiness (health service
  name FindService's, which a draining server turns NOT_SERVING) and stops picking a server
  the moment it is not ready, so a rolling restart sends it no call to refuse.
- `dns:///host:port` resolves every address of a headless Service and spreads calls over them
  (round_robin); a plain `host:port` works as usual.
- TLS: `root_certificates` (PEM) to check the server, `client_certificate` and `client_key` for
  mutual TLS. A bearer `token` (or `token_file`, read again when it changes: a projected
  service-account token the kubelet rotates) rides as call credentials over TLS; without TLS
  it is sent as `authorization` metadata, only fit for loopback or a mesh that encrypts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import grpc

from findsvc.client_tokens import Bearer, BearerPlugin, FixedToken, TokenFile
from findsvc.contract import FIND_SERVICE_NAME
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

DEFAULT_DEADLINE_S = 5.0

SERVICE_CONFIG = {
    "loadBalancingConfig": [{"round_robin": {}}],
    # One health Watch per connection, on the name readiness publishes and a drain turns
    # NOT_SERVING (the empty name follows it too). gRPC core acts on it under round_robin.
    "healthCheckConfig": {"serviceName": FIND_SERVICE_NAME},
    "methodConfig": [
        {
            "name": [{"service": FIND_SERVICE_NAME}],
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.1s",
                "maxBackoff": "1s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE", "CANCELLED"],
            },
        }
    ],
    # gRPC's token bucket: a failed attempt takes a token, an answer gives back a tenth of
    # one, and retries stop while half the tokens are gone. So failures sustained above
    # about 1 in 11 calls (an overloaded server shedding with UNAVAILABLE or CANCELLED) soon
    # stop them, as retrying would only multiply the overload; but 50 failures at once, one
    # stopping pod refusing every caller's call, are still retried (10 tokens were not).
    "retryThrottling": {"maxTokens": 100, "tokenRatio": 0.1},
}


@dataclass(frozen=True)
class UserRecord:
    name: str
    phone: int
    since: datetime


@dataclass(frozen=True)
class BatchResult:
    users: list[UserRecord]  # in request order
    not_found: list[str]  # in request order


class FindError(Exception):
    """A call failed; `code` is the gRPC status code."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class UserNotFoundError(FindError):
    pass


class InvalidNameError(FindError):
    pass


class ServiceUnavailableError(FindError):
    """Still UNAVAILABLE after the retries; try again later. A failed TLS handshake is this too,
    and will not pass on a retry: a server the client does not trust (`details` names
    CERTIFICATE_VERIFY_FAILED) or a client certificate the server refuses."""


class DeadlineExceededError(FindError):
    pass


class CorruptRecordError(FindError):
    """DATA_LOSS: the stored record breaks the rules; asking again will not help."""


class AuthenticationError(FindError):
    """UNAUTHENTICATED or PERMISSION_DENIED: check the token. (A refused client certificate
    fails the TLS handshake instead: ServiceUnavailableError.)"""


_ERRORS_BY_CODE: dict[grpc.StatusCode, type[FindError]] = {
    grpc.StatusCode.NOT_FOUND: UserNotFoundError,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidNameError,
    grpc.StatusCode.UNAVAILABLE: ServiceUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.DATA_LOSS: CorruptRecordError,
    grpc.StatusCode.UNAUTHENTICATED: AuthenticationError,
    grpc.StatusCode.PERMISSION_DENIED: AuthenticationError,
}


class FindClient:
    def __init__(
        self,
        target: str,
        deadline_s: float = DEFAULT_DEADLINE_S,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        client_certificate: bytes | None = None,
        client_key: bytes | None = None,
        token: str | None = None,
        token_file: Path | None = None,
    ) -> None:
        """TLS is on when `tls` is true or any certificate is given. ValueError when only one
        of `client_certificate` and `client_key` is given (gRPC would abort the process), or
        both `token` and `token_file`.

        `token_file` is read again whenever it changes, so a token the kubelet rotates (a
        projected service-account token) is sent from the next call on."""
        if bool(client_certificate) != bool(client_key):
            raise ValueError("a client certificate and its key go together: give both or neither")
        if token and token_file:
            raise ValueError("a token or a token file, not both")
        bearer = TokenFile(token_file) if token_file else (FixedToken(token) if token else None)
        options = [
            ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
            ("grpc.enable_retries", 1),
        ]
        self._bearer: Bearer | None = None  # sent as metadata: on a plaintext channel only
        if tls or root_certificates or client_certificate or client_key:
            credentials = grpc.ssl_channel_credentials(
                root_certificates, client_key, client_certificate
            )
            if bearer is not None:
                credentials = grpc.composite_channel_credentials(
                    credentials, grpc.metadata_call_credentials(BearerPlugin(bearer))
                )
            self._channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self._bearer = bearer
            self._channel = grpc.insecure_channel(target, options=options)
        self._stub = find_service_pb2_grpc.FindServiceStub(self._channel)
        self._deadline_s = deadline_s

    def find(self, name: str) -> UserRecord:
        """Raises UserNotFoundError, InvalidNameError, ServiceUnavailableError,
        DeadlineExceededError, CorruptRecordError, AuthenticationError or FindError."""
        try:
            reply = self._stub.FindUser(
                find_service_pb2.FindUserRequest(name=name),
                timeout=self._deadline_s,
                metadata=self._metadata(),
            )
        except grpc.RpcError as error:
            raise _typed(error) from None
        return _record(reply)

    def find_many(self, names: Sequence[str]) -> BatchResult:
        """Up to 100 names in one call; raises as find() does (never UserNotFoundError)."""
        try:
            reply = self._stub.BatchFindUsers(
                find_service_pb2.BatchFindUsersRequest(names=list(names)),
                timeout=self._deadline_s,
                metadata=self._metadata(),
            )
        except grpc.RpcError as error:
            raise _typed(error) from None
        return BatchResult(
            users=[_record(user) for user in reply.users],
            not_found=list(reply.not_found_names),
        )

    def close(self) -> None:
        self._channel.close()

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", self._bearer.header()),) if self._bearer else ()

    def __enter__(self) -> FindClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _typed(error: grpc.RpcError) -> FindError:
    code = error.code()
    details = error.details() or ""
    return _ERRORS_BY_CODE.get(code, FindError)(code, details)


def _record(reply: find_service_pb2.UserRecord) -> UserRecord:
    return UserRecord(name=reply.name, phone=reply.phone, since=reply.since.ToDatetime(tzinfo=UTC))
