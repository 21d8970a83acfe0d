"""The gRPC edge: request -> use case -> UserRecord, domain errors -> status codes."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from findsvc.domain.model import CorruptUserRecord, InvalidName, User, UserNotFound
from findsvc.domain.ports import (
    RepositorySchemaMismatch,
    RepositoryTimeout,
    RepositoryUnavailable,
    UserRepository,
)
from findsvc.domain.read_after import InvalidReadAfter, ReadAfter, reading_after
from findsvc.service_layer.find_user import find_user
from findsvc.service_layer.find_users import (
    MAX_NAMES,
    InvalidNameInBatch,
    TooManyNames,
    find_users,
)
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Metadata = Sequence[tuple[str, str | bytes]]  # a call's, as grpcio gives it

# A caller that has just written sends its GTID position: see findsvc.domain.read_after.
READ_AFTER_HEADER = "x-read-after-gtid"
# A caller that revalidates sends it to get FindUser's ETag and Cache-Control; Envoy adds it
# to every call it forwards (envoy/envoy.yaml), as HTTP callers cache. gRPC sends them in a
# batch of their own ahead of the answer, which costs a third of a cached lookup's CPU
# (docs/performance.md), so callers that do not ask do not pay for it.
ETAG_HEADER = "x-findsvc-etag"


class FindServicer(find_service_pb2_grpc.FindServiceServicer):
    def __init__(self, users: UserRepository, cache_control: str) -> None:
        """`cache_control`: sent with FindUser's ETag (Settings.cache_control)."""
        self._users = users
        self._cache_control = cache_control

    def FindUser(
        self, request: find_service_pb2.FindUserRequest, context: grpc.ServicerContext
    ) -> find_service_pb2.UserRecord:
        metadata = context.invocation_metadata()
        try:
            with reading_after(read_after_in(metadata)):
                user = find_user(request.name, self._users)
        except Exception as error:  # noqa: BLE001 - every error becomes a status; see abort_for
            abort_for(error, context)
        if any(key == ETAG_HEADER for key, _ in metadata):
            # HTTP callers (through Envoy) get these as headers; If-None-Match is answered there.
            context.send_initial_metadata(
                (("etag", etag_of(user)), ("cache-control", self._cache_control))
            )
        return to_record(user)

    def BatchFindUsers(
        self, request: find_service_pb2.BatchFindUsersRequest, context: grpc.ServicerContext
    ) -> find_service_pb2.BatchFindUsersResponse:
        try:
            with reading_after(read_after_in(context.invocation_metadata())):
                lookups = find_users(request.names, self._users)
            corrupt = [lookup for lookup in lookups if isinstance(lookup, CorruptUserRecord)]
            if corrupt:
                for record in corrupt[1:]:
                    log_corrupt(record)
                raise corrupt[0]
        except Exception as error:  # noqa: BLE001 - every error becomes a status; see abort_for
            abort_for(error, context)
        response = find_service_pb2.BatchFindUsersResponse()
        for lookup in lookups:
            if isinstance(lookup, User):
                response.users.append(to_record(lookup))
            elif isinstance(lookup, UserNotFound):
                response.not_found_names.append(lookup.name.value)
        return response


# Errors -> status codes: the one table of the edge. Messages never quote stored data.
STATUS_FOR: tuple[tuple[type[Exception], grpc.StatusCode, str], ...] = (
    (UserNotFound, grpc.StatusCode.NOT_FOUND, "no user has that name"),
    (
        RepositoryTimeout,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "the user database did not answer in time",
    ),
    (RepositoryUnavailable, grpc.StatusCode.UNAVAILABLE, "the user database is unavailable; retry"),
    (CorruptUserRecord, grpc.StatusCode.DATA_LOSS, "the stored user record is corrupt"),
)


def read_after_in(metadata: Metadata) -> ReadAfter | None:
    """The call's READ_AFTER_HEADER; raises InvalidReadAfter for a bad or repeated one."""
    values = [value for key, value in metadata if key == READ_AFTER_HEADER]
    if not values:
        return None
    if len(values) > 1 or not isinstance(values[0], str):
        raise InvalidReadAfter("must be sent once")
    return ReadAfter.parse(values[0])


def abort_for(error: Exception, context: grpc.ServicerContext) -> NoReturn:
    """Ends the call with the status that `error` means; an unexpected error is INTERNAL."""
    if isinstance(error, InvalidReadAfter):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid {READ_AFTER_HEADER}: {error}")
    if isinstance(error, InvalidName):
        context.abort_with_status(bad_name_status(error.reason))
    if isinstance(error, TooManyNames):
        context.abort_with_status(
            bad_request_status("names", f"has {error.count} names; {MAX_NAMES} at most")
        )
    if isinstance(error, InvalidNameInBatch):
        context.abort_with_status(
            bad_request_status(f"names[{error.index}]", f"name {error.reason}")
        )
    if isinstance(error, CorruptUserRecord):
        log_corrupt(error)
    if isinstance(error, RepositorySchemaMismatch):  # no retry helps; says what is missing
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"the user database: {error}")
    for kind, code, message in STATUS_FOR:
        if isinstance(error, kind):
            context.abort(code, message)
    # A bug: the type is enough to find it; its message could carry data.
    log.error("unexpected error in %s", type(error).__name__, extra={"error": type(error).__name__})
    context.abort(grpc.StatusCode.INTERNAL, "internal error")


def log_corrupt(record: CorruptUserRecord) -> None:
    log.error("stored user %r breaks the domain rules: %s", record.name, record.reason)


def etag_of(user: User) -> str:
    """A strong ETag that changes exactly when the record does: a hash of all it holds."""
    record = f"{user.name.value}\0{user.phone.value}\0{user.since.isoformat()}"
    return '"' + hashlib.sha256(record.encode()).hexdigest()[:32] + '"'


def to_record(user: User) -> find_service_pb2.UserRecord:
    # Integer arithmetic, exact to the microsecond, and faster than Timestamp.FromDatetime.
    age = user.since - _EPOCH
    since = Timestamp(seconds=age.days * 86400 + age.seconds, nanos=age.microseconds * 1000)
    return find_service_pb2.UserRecord(name=user.name.value, phone=user.phone.value, since=since)


def bad_name_status(reason: str) -> grpc.Status:
    return bad_request_status("name", f"name {reason}", f"invalid name: {reason}")


def bad_request_status(field: str, description: str, message: str = "") -> grpc.Status:
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
    detail = error_details_pb2.BadRequest(field_violations=[violation])
    status = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message=message or f"invalid {field}: {description}"
    )
    status.details.add().Pack(detail)
    return rpc_status.to_status(status)
