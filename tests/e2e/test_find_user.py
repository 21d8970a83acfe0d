"""FindUser over a real channel, against a real server and a real MariaDB."""

from __future__ import annotations

import grpc
import pytest

from devkit.server import ServerProcess, StartServer
from findsvc.config import DatabaseUrl
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE, find_user, violated_fields
from tests.support.db import insert_user, table_locked
from tests.support.held_calls import held_calls_env
from tests.support.load import wait_for


def status_of(server: ServerProcess, name: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        find_user(server, name)
    return raised.value


class TestFound:
    def test_a_known_user_is_returned_with_every_field(self, server: ServerProcess) -> None:
        record = find_user(server, KRISHNA)
        assert record.name == "KrishnaMohan"
        assert record.phone == KRISHNA_PHONE
        assert record.since.ToDatetime().replace(tzinfo=KRISHNA_SINCE.tzinfo) == KRISHNA_SINCE

    def test_surrounding_whitespace_is_ignored(self, server: ServerProcess) -> None:
        assert find_user(server, "  KrishnaMohan\n").name == "KrishnaMohan"

    def test_a_user_the_addservice_just_committed_is_found_by_the_next_call(
        self, server: ServerProcess, users_db: DatabaseUrl
    ) -> None:
        assert status_of(server, "JustAddedUser").code() == grpc.StatusCode.NOT_FOUND
        insert_user(users_db, "JustAddedUser", 9000000001, KRISHNA_SINCE)
        assert find_user(server, "JustAddedUser").phone == 9000000001


class TestErrors:
    def test_unknown_name_is_not_found(self, server: ServerProcess) -> None:
        error = status_of(server, "NobodyByThisName")
        assert error.code() == grpc.StatusCode.NOT_FOUND

    @pytest.mark.parametrize("name", ["short", "x" * 33, "Krishna\x00Mohan", ""])
    def test_a_bad_name_is_invalid_argument_with_a_field_violation(
        self, server: ServerProcess, name: str
    ) -> None:
        error = status_of(server, name)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violated_fields(error) == ["name"]

    def test_a_corrupt_row_is_data_loss_and_the_server_keeps_serving(
        self, server: ServerProcess
    ) -> None:
        error = status_of(server, "BrokenPhone1")
        assert error.code() == grpc.StatusCode.DATA_LOSS
        assert "12345" not in (error.details() or "")
        assert find_user(server, KRISHNA).phone == KRISHNA_PHONE
        wait_for(lambda: "BrokenPhone1" in server.logs, 10)  # the line about it was written
        assert "12345" not in server.logs

    def test_no_log_line_carries_a_phone_number_sql_or_a_traceback(
        self, server: ServerProcess
    ) -> None:
        lines_about_it = server.logs.count("BrokenPhone1")
        find_user(server, KRISHNA)
        status_of(server, "BrokenPhone1")
        wait_for(lambda: server.logs.count("BrokenPhone1") > lines_about_it, 10)
        logs = server.logs
        assert "9731423166" not in logs
        assert "SELECT" not in logs
        assert "Traceback" not in logs


class TestDatabaseDown:
    def test_an_unreachable_database_is_unavailable_fast(self, start_server: StartServer) -> None:
        from devkit.mariadb import free_port

        down = start_server(
            {"FINDSVC_DB_URL": f"mysql://findsvc@127.0.0.1:{free_port()}/glarimy"},
            service="liveness",
        )
        error = status_of(down, KRISHNA)
        # Refused at once: a call that waited would end in its 5 s deadline's DEADLINE_EXCEEDED.
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert "Traceback" not in down.logs


class TestASlowDatabase:
    def test_a_query_past_our_cap_is_deadline_exceeded_from_the_server(
        self, users_db: DatabaseUrl, start_server: StartServer
    ) -> None:
        slow = start_server(held_calls_env(users_db, FINDSVC_DB_TIMEOUT_S="1"))
        with (
            slow.channel() as channel,
            table_locked(users_db),
            pytest.raises(grpc.RpcError) as raised,
        ):
            # The caller's deadline is far past the cap: the server's status, not the client's.
            stub = find_service_pb2_grpc.FindServiceStub(channel)
            stub.FindUser(find_service_pb2.FindUserRequest(name=KRISHNA), timeout=60)
        assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert raised.value.details() == "the user database did not answer in time"
