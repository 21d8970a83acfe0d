"""Whatever a caller sends, findsvc answers with a well-defined code and lives on."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.server import ServerProcess
from glarimy.ums.find.v1 import find_service_pb2
from tests.support.calls import KRISHNA, KRISHNA_PHONE, SERVING, find, health_status

FIND_USER = "/glarimy.ums.find.v1.FindService/FindUser"
BATCH_FIND_USERS = "/glarimy.ums.find.v1.FindService/BatchFindUsers"
MAX_MESSAGE_BYTES = 16_384  # FINDSVC_MAX_MESSAGE_BYTES' default
ANSWERS = {
    grpc.StatusCode.OK,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.DATA_LOSS,  # the test data holds a corrupt row
}
EXAMPLES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def channel(server: ServerProcess) -> Iterator[grpc.Channel]:
    with server.channel() as channel:
        yield channel


def send_raw(channel: grpc.Channel, payload: bytes, method: str = FIND_USER) -> grpc.StatusCode:
    """FindUser (or `method`) with these exact bytes as the request, no serializer in between."""
    call = channel.unary_unary(method)
    try:
        call(payload, timeout=5)
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


class TestNames:
    @EXAMPLES
    @given(name=st.text(max_size=64))
    def test_any_name_gets_an_answer(self, channel: grpc.Channel, name: str) -> None:
        assert find(channel, name) in ANSWERS

    @EXAMPLES
    @given(name=st.from_regex(r"\A\s*[A-Za-z0-9]{8,32}\s*\Z"))
    def test_a_well_formed_name_is_found_or_not_found(
        self, channel: grpc.Channel, name: str
    ) -> None:
        assert find(channel, name) in {grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND}


class TestRawBytes:
    @EXAMPLES
    @given(payload=st.binary(max_size=512))
    def test_random_bytes_get_an_answer(self, channel: grpc.Channel, payload: bytes) -> None:
        assert send_raw(channel, payload) in ANSWERS

    @pytest.mark.parametrize(
        "payload",
        [
            b"\x0a\x02\xc3\x28",  # field 1, a string that is not UTF-8
            b"\x0a\xff\xff\xff\xff\x0f",  # a length far past the end
            b"\x0a\x10abc",  # a length past the end
            b"\x0b",  # a group start with no end
            b"\xff",  # field number 0-ish garbage
        ],
    )
    def test_a_malformed_message_is_invalid_argument(
        self, channel: grpc.Channel, payload: bytes
    ) -> None:
        assert send_raw(channel, payload) == grpc.StatusCode.INVALID_ARGUMENT

    def test_unknown_fields_are_ignored(self, channel: grpc.Channel) -> None:
        known = find_service_pb2.FindUserRequest(name=KRISHNA).SerializeToString()
        assert send_raw(channel, known + b"\x10\x2a") == grpc.StatusCode.OK

    @pytest.mark.parametrize("method", [FIND_USER, BATCH_FIND_USERS])
    @pytest.mark.parametrize("size", [MAX_MESSAGE_BYTES + 1, 1_000_000, 8_000_000])
    def test_an_oversize_message_is_resource_exhausted(
        self, channel: grpc.Channel, size: int, method: str
    ) -> None:
        payload = b"\x0a" + b"\x00" * (size - 1)  # `size` bytes in all
        assert send_raw(channel, payload, method) == grpc.StatusCode.RESOURCE_EXHAUSTED


WATCH = "/grpc.health.v1.Health/Watch"
REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
MALFORMED = b"\x0a\xff\xff\xff\xff\x0f"  # a length far past the end


class TestMalformedStreams:
    def test_a_malformed_watch_request_is_invalid_argument(self, channel: grpc.Channel) -> None:
        with pytest.raises(grpc.RpcError) as raised:
            next(channel.unary_stream(WATCH)(MALFORMED, timeout=5))
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    def test_a_malformed_reflection_request_is_invalid_argument(
        self, channel: grpc.Channel
    ) -> None:
        with pytest.raises(grpc.RpcError) as raised:
            next(channel.stream_stream(REFLECTION)(iter([MALFORMED]), timeout=5))
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


class TestMessageSize:
    def test_a_megabyte_request_is_refused(self, channel: grpc.Channel) -> None:
        assert find(channel, "x" * 1_000_000) == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert find(channel, KRISHNA) == grpc.StatusCode.OK

    def test_a_batch_of_well_formed_names_past_the_size_limit_is_refused_by_size(
        self, channel: grpc.Channel
    ) -> None:
        names = [f"SomeUser{i:024d}" for i in range(500)]  # 32 characters each
        request = find_service_pb2.BatchFindUsersRequest(names=names).SerializeToString()
        assert len(request) > MAX_MESSAGE_BYTES
        assert send_raw(channel, request, BATCH_FIND_USERS) == grpc.StatusCode.RESOURCE_EXHAUSTED
        small = find_service_pb2.BatchFindUsersRequest(names=[KRISHNA]).SerializeToString()
        assert send_raw(channel, small, BATCH_FIND_USERS) == grpc.StatusCode.OK


class TestAfterwards:
    def test_the_server_lives_and_logged_no_traceback(
        self, channel: grpc.Channel, server: ServerProcess
    ) -> None:
        assert server.process.poll() is None
        assert health_status(channel, "liveness") == SERVING
        assert find(channel, KRISHNA) == grpc.StatusCode.OK
        assert "Traceback" not in server.logs
        assert '"level": "ERROR"' not in server.logs
        assert str(KRISHNA_PHONE) not in server.logs
