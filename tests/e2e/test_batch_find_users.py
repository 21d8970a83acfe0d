"""BatchFindUsers over a real channel, against a real server and a real MariaDB."""

from __future__ import annotations

import grpc
import pytest

from devkit.server import ServerProcess
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.calls import KRISHNA_PHONE, violated_fields


def batch_find(server: ServerProcess, names: list[str]) -> find_service_pb2.BatchFindUsersResponse:
    with server.channel() as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        return stub.BatchFindUsers(find_service_pb2.BatchFindUsersRequest(names=names), timeout=5)


def error_of(server: ServerProcess, names: list[str]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        batch_find(server, names)
    return raised.value


class TestBatchFound:
    def test_users_come_in_request_order_and_unknown_names_are_listed(
        self, server: ServerProcess
    ) -> None:
        names = ["NobodyAtAll1", " krishnamohan ", "NobodyAtAll2", "KrishnaMohan"]
        reply = batch_find(server, names)
        assert [user.name for user in reply.users] == ["KrishnaMohan", "KrishnaMohan"]
        assert reply.users[0].phone == KRISHNA_PHONE
        assert list(reply.not_found_names) == ["NobodyAtAll1", "NobodyAtAll2"]

    def test_no_names_is_an_empty_reply(self, server: ServerProcess) -> None:
        reply = batch_find(server, [])
        assert (list(reply.users), list(reply.not_found_names)) == ([], [])

    def test_a_hundred_names_are_accepted(self, server: ServerProcess) -> None:
        reply = batch_find(server, ["KrishnaMohan"] * 100)
        assert len(reply.users) == 100


class TestBatchErrors:
    def test_more_than_a_hundred_names_is_invalid_argument_on_names(
        self, server: ServerProcess
    ) -> None:
        error = error_of(server, ["KrishnaMohan"] * 101)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violated_fields(error) == ["names"]

    def test_a_bad_name_is_invalid_argument_on_its_position(self, server: ServerProcess) -> None:
        error = error_of(server, ["KrishnaMohan", "short"])
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violated_fields(error) == ["names[1]"]

    def test_a_corrupt_record_asked_for_is_data_loss_without_the_data(
        self, server: ServerProcess
    ) -> None:
        error = error_of(server, ["KrishnaMohan", "BrokenPhone1"])
        assert error.code() == grpc.StatusCode.DATA_LOSS
        assert "12345" not in (error.details() or "")
