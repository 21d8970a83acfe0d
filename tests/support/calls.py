"""The one way the tests call findsvc: FindUser, health checks and the CLI, plus the constants
they name (the demo user, the health statuses, the readiness names)."""

from __future__ import annotations

import subprocess
import sys

import grpc
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from devkit.callers import find
from devkit.server import ServerProcess
from findsvc.client import UserRecord
from findsvc.entrypoints.cli import DEMO_USERS
from findsvc.entrypoints.health import NOT_SERVING, SERVING
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc

__all__ = [
    "FIND_SERVICE",
    "KRISHNA",
    "KRISHNA_JSON",
    "KRISHNA_PHONE",
    "KRISHNA_RECORD",
    "KRISHNA_SINCE",
    "NOT_SERVING",
    "READINESS",
    "SERVICE_UNKNOWN",
    "SERVING",
    "answers_within_a_second",
    "find",
    "find_user",
    "findsvc",
    "health_status",
    "readiness_is",
    "violated_fields",
]

# The demo seed's first user: the e2e database holds it too.
KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE = DEMO_USERS[0]
KRISHNA_RECORD = UserRecord(name=KRISHNA, phone=KRISHNA_PHONE, since=KRISHNA_SINCE)
# The one JSON shape of a user, as grpcurl, REST (Envoy) and `findsvc find` print it: proto3
# JSON, the int64 phone as a string and the time in RFC 3339 with Z. Literals, on purpose.
KRISHNA_JSON = {"name": "KrishnaMohan", "phone": "9731423166", "since": "2018-03-14T09:30:00Z"}
FIND_SERVICE = find_service_pb2.DESCRIPTOR.services_by_name["FindService"].full_name
READINESS = ("", FIND_SERVICE)  # the whole server, and the Find service by name
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


def answers_within_a_second(channel: grpc.Channel) -> None:
    """Liveness, readiness and FindUser, each answered OK within 1 s."""
    for name in ("liveness", ""):
        assert health_status(channel, name, timeout_s=1) == SERVING
    assert find(channel, KRISHNA, timeout_s=1) == grpc.StatusCode.OK


def find_user(server: ServerProcess, name: str) -> find_service_pb2.UserRecord:
    """FindUser's record on a channel of its own; grpc.RpcError when there is none."""
    with server.channel() as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        return stub.FindUser(find_service_pb2.FindUserRequest(name=name), timeout=5)


def health_status(channel: grpc.Channel, service: str, timeout_s: float = 2.0) -> int:
    """Health/Check's status for `service`; grpc.RpcError when the check fails."""
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service=service)
    return stub.Check(request, timeout=timeout_s).status  # type: ignore[no-any-return]


def findsvc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`findsvc ARGS...` run to its end, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "findsvc", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )


def readiness_is(server: ServerProcess, status: int) -> bool:
    """Both readiness names at `status`."""
    with server.channel() as channel:
        return all(health_status(channel, name) == status for name in READINESS)


def violated_fields(error: grpc.RpcError) -> list[str]:
    """The fields an INVALID_ARGUMENT's google.rpc.BadRequest detail names."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    return [violation.field for violation in bad_request.field_violations]
