"""A typed Python client for FindService."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import grpc

from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

DEFAULT_DEADLINE_S = 5.0


@dataclass(frozen=True)
class UserRecord:
    name: str
    phone: int
    since: datetime


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
    pass


_ERRORS_BY_CODE: dict[grpc.StatusCode, type[FindError]] = {
    grpc.StatusCode.NOT_FOUND: UserNotFoundError,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidNameError,
    grpc.StatusCode.UNAVAILABLE: ServiceUnavailableError,
}


class FindClient:
    def __init__(self, target: str, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self._channel = grpc.insecure_channel(target)
        self._stub = find_service_pb2_grpc.FindServiceStub(self._channel)
        self._deadline_s = deadline_s

    def find(self, name: str) -> UserRecord:
        """Raises UserNotFoundError, InvalidNameError, ServiceUnavailableError or FindError."""
        try:
            reply = self._stub.FindUser(
                find_service_pb2.FindUserRequest(name=name), timeout=self._deadline_s
            )
        except grpc.RpcError as error:
            code, details = error.code(), error.details() or ""
            raise _ERRORS_BY_CODE.get(code, FindError)(code, details) from None
        return UserRecord(
            name=reply.name,
            phone=reply.phone,
            since=reply.since.ToDatetime(tzinfo=UTC),
        )

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> FindClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
