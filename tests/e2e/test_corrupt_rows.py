"""A row that cannot become a record is DATA_LOSS, through FindUser, the batch and REST, and no
stored value reaches a caller or the log."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from devkit.envoy import EnvoyProcess
from devkit.server import ServerProcess, serving
from findsvc.config import DatabaseUrl
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE, find_user
from tests.support.db import (
    database_of_its_own,
    insert_user,
    url_string,
)
from tests.support.load import wait_for

HUGE_PHONE = 2**64 - 1  # fits BIGINT UNSIGNED, not the record's int64
TWIN_PHONES = (9000000111, 9000000222)

# The AddService's table grown careless: an unsigned phone, no unique key on the name, and a
# collation under which control characters are ignored ("Control\x01Name1" equals
# "ControlName1").
CARELESS_TABLE = """
CREATE TABLE ums_users (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) COLLATE utf8mb4_unicode_ci,
  phone BIGINT UNSIGNED NOT NULL,
  since DATETIME(6)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
"""

# Each asked-for name, and a stored value that must never be seen.
CORRUPT = {
    "HugePhone01": str(HUGE_PHONE),
    "ControlName1": "\x01",
    "TwinNames01": str(TWIN_PHONES[0]),
}


@pytest.fixture(scope="module")
def careless_db(mysql_server_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    with database_of_its_own(mysql_server_url, "findsvc_rows", CARELESS_TABLE) as url:
        insert_user(url, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
        insert_user(url, "HugePhone01", HUGE_PHONE, KRISHNA_SINCE)
        insert_user(url, "Control\x01Name1", 9000000333, KRISHNA_SINCE)
        for phone in TWIN_PHONES:
            insert_user(url, "TwinNames01", phone, KRISHNA_SINCE)
        yield url


@pytest.fixture(scope="module")
def careless_server(careless_db: DatabaseUrl) -> Iterator[ServerProcess]:
    with serving({"FINDSVC_DB_URL": url_string(careless_db)}) as process:
        yield process


@pytest.fixture(scope="module")
def careless_envoy(careless_server: ServerProcess) -> Iterator[EnvoyProcess]:
    with EnvoyProcess(careless_server.port) as envoy:
        envoy.wait_ready()
        yield envoy


def error_of(call: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call()  # type: ignore[operator]
    return raised.value


def assert_private(server: ServerProcess, text: str) -> None:
    for secret in CORRUPT.values():
        assert secret not in text
    assert str(TWIN_PHONES[1]) not in text
    assert "Traceback" not in text


class TestFindUser:
    @pytest.mark.parametrize("name", list(CORRUPT))
    def test_a_row_that_cannot_be_a_record_is_data_loss_without_its_values(
        self, careless_server: ServerProcess, name: str
    ) -> None:
        error = error_of(lambda: find_user(careless_server, name))
        assert error.code() == grpc.StatusCode.DATA_LOSS
        assert_private(careless_server, error.details() or "")
        # The log line about it has landed: then no value of it is in the log.
        wait_for(lambda: "breaks the domain rules" in careless_server.logs, timeout_s=10)
        assert_private(careless_server, careless_server.logs)

    def test_a_good_row_beside_them_is_found(self, careless_server: ServerProcess) -> None:
        assert find_user(careless_server, KRISHNA).phone == KRISHNA_PHONE


class TestBatch:
    @pytest.mark.parametrize("name", list(CORRUPT))
    def test_a_batch_asking_for_a_corrupt_row_is_data_loss_without_its_values(
        self, careless_server: ServerProcess, name: str
    ) -> None:
        with careless_server.channel() as channel:
            stub = find_service_pb2_grpc.FindServiceStub(channel)
            request = find_service_pb2.BatchFindUsersRequest(names=[KRISHNA, name])
            error = error_of(lambda: stub.BatchFindUsers(request, timeout=5))
        assert error.code() == grpc.StatusCode.DATA_LOSS
        assert_private(careless_server, error.details() or "")
        assert_private(careless_server, careless_server.logs)


class TestRest:
    @pytest.mark.parametrize("name", list(CORRUPT))
    def test_a_corrupt_row_is_500_without_its_values(
        self, careless_server: ServerProcess, careless_envoy: EnvoyProcess, name: str
    ) -> None:
        one = careless_envoy.request("GET", f"/user/{name}")
        batch = careless_envoy.request("POST", "/users:batchFind", {"names": [KRISHNA, name]})
        for reply in (one, batch):
            assert reply.status == 500
            assert_private(careless_server, reply.body.decode(errors="replace"))
        assert_private(careless_server, careless_server.logs)
