"""Whatever deadline a caller sets (none, one already spent, a year), the call gets its answer
or DEADLINE_EXCEEDED: never INTERNAL. With the cache on and off, for both methods. (With no
deadline and the cache on, FindUser got INTERNAL: the budget overflowed a wait.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from devkit.server import ServerProcess, serving
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.calls import KRISHNA, KRISHNA_PHONE

NO_DEADLINE = None
ONE_NANOSECOND = 1e-9
ONE_YEAR = 365 * 24 * 3600.0
NOBODY = "NobodyByThisName1"

# The client's own wait for an answer, so a server that never answers fails the test instead
# of hanging it: it sets no deadline on the call.
ANSWER_WITHIN_S = 30


@pytest.fixture(scope="module", params=["cache off", "cache on"])
def budget_server(users_db_url: str, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    env = {"FINDSVC_DB_URL": users_db_url}
    if request.param == "cache on":
        env["FINDSVC_CACHE_TTL_S"] = "60"
    with serving(env) as process:
        yield process


def answer(call: grpc.Future) -> tuple[grpc.StatusCode, Any]:  # type: ignore[type-arg]
    """The call's status code and reply (None unless OK)."""
    try:
        return grpc.StatusCode.OK, call.result(timeout=ANSWER_WITHIN_S)
    except grpc.RpcError as error:
        return error.code(), None  # type: ignore[attr-defined]
    finally:
        call.cancel()


def find_user_code(server: ServerProcess, name: str, timeout_s: float | None) -> grpc.StatusCode:
    with server.channel() as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        request = find_service_pb2.FindUserRequest(name=name)
        code, record = answer(stub.FindUser.future(request, timeout=timeout_s))
    if code == grpc.StatusCode.OK:
        assert record.phone == KRISHNA_PHONE
    return code


def batch_find_code(server: ServerProcess, timeout_s: float | None) -> grpc.StatusCode:
    with server.channel() as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        request = find_service_pb2.BatchFindUsersRequest(names=[KRISHNA, NOBODY])
        code, reply = answer(stub.BatchFindUsers.future(request, timeout=timeout_s))
    if code == grpc.StatusCode.OK:
        assert [user.phone for user in reply.users] == [KRISHNA_PHONE]
        assert list(reply.not_found_names) == [NOBODY]
    return code


@pytest.mark.parametrize("timeout_s", [NO_DEADLINE, ONE_YEAR], ids=["no deadline", "a year"])
class TestACallWithTimeToSpare:
    def test_finds_a_known_user(self, budget_server: ServerProcess, timeout_s: float) -> None:
        assert find_user_code(budget_server, KRISHNA, timeout_s) == grpc.StatusCode.OK

    def test_is_told_an_unknown_name_is_not_found(
        self, budget_server: ServerProcess, timeout_s: float
    ) -> None:
        assert find_user_code(budget_server, NOBODY, timeout_s) == grpc.StatusCode.NOT_FOUND

    def test_finds_a_batch(self, budget_server: ServerProcess, timeout_s: float) -> None:
        assert batch_find_code(budget_server, timeout_s) == grpc.StatusCode.OK


class TestACallWithOneNanosecond:
    """gRPC turns the caller's timeout into a wall-clock deadline, and the server's clocks
    may give it a few milliseconds more: a fast answer can still make it. Either way it is
    the answer or DEADLINE_EXCEEDED, never INTERNAL (the spent budget itself is pinned in
    tests/unit/test_call_budget.py and tests/integration/test_deadlines.py)."""

    def test_find_user_is_deadline_exceeded_or_answered(self, budget_server: ServerProcess) -> None:
        code = find_user_code(budget_server, NOBODY, ONE_NANOSECOND)
        assert code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.NOT_FOUND)

    def test_a_batch_is_deadline_exceeded_or_answered(self, budget_server: ServerProcess) -> None:
        code = batch_find_code(budget_server, ONE_NANOSECOND)
        assert code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.OK)

    def test_leaves_the_server_answering(self, budget_server: ServerProcess) -> None:
        find_user_code(budget_server, KRISHNA, ONE_NANOSECOND)
        assert find_user_code(budget_server, KRISHNA, NO_DEADLINE) == grpc.StatusCode.OK
