"""What Prometheus and a log shipper see of a real `findsvc serve`: metrics and JSON logs."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator

import grpc
import pytest

from devkit.mariadb import free_port
from devkit.server import ServerProcess, StartServer, serving
from tests.support.calls import KRISHNA, KRISHNA_PHONE, health_status
from tests.support.calls import find as find_code
from tests.support.metrics import FIND_USER_LABELS, log_entries, metrics_port, scrape, value

FIND_USER_METHOD = "/glarimy.ums.find.v1.FindService/FindUser"


def find(server: ServerProcess, name: str, request_id: str | None = None) -> grpc.StatusCode:
    metadata = (("x-request-id", request_id),) if request_id else None
    with server.channel() as channel:
        return find_code(channel, name, metadata=metadata)


@pytest.fixture(scope="module")
def observed(users_db_url: str) -> Iterator[ServerProcess]:
    with serving({"FINDSVC_DB_URL": users_db_url, "FINDSVC_ACCESS_LOG": "all"}) as process:
        yield process


@pytest.fixture(scope="module")
def db_down() -> Iterator[ServerProcess]:
    """A server whose database does not answer: nothing listens on its port."""
    env = {
        "FINDSVC_DB_URL": f"mysql://findsvc@127.0.0.1:{free_port()}/glarimy",
        "FINDSVC_DB_CONNECT_TIMEOUT_S": "0.5",
    }
    with serving(env, service="liveness") as process:
        yield process


class TestGrpcMetrics:
    @pytest.mark.parametrize(
        ("name", "code"),
        [
            (KRISHNA, "OK"),
            ("NobodyByThisName", "NOT_FOUND"),
            ("short", "INVALID_ARGUMENT"),
        ],
    )
    def test_each_call_is_started_handled_and_timed_with_its_code(
        self, observed: ServerProcess, name: str, code: str
    ) -> None:
        port = metrics_port(observed)
        before = scrape(port)
        assert find(observed, name).name == code
        after = scrape(port)
        for metric in ("grpc_server_started_total", "grpc_server_handling_seconds_count"):
            assert (
                value(after, metric, **FIND_USER_LABELS) - value(before, metric, **FIND_USER_LABELS)
                == 1
            )
        handled = "grpc_server_handled_total"
        assert (
            value(after, handled, **FIND_USER_LABELS, grpc_code=code)
            - value(before, handled, **FIND_USER_LABELS, grpc_code=code)
            == 1
        )

    def test_a_database_outage_is_counted_as_unavailable(self, db_down: ServerProcess) -> None:
        assert find(db_down, KRISHNA) == grpc.StatusCode.UNAVAILABLE
        samples = scrape(metrics_port(db_down))
        assert value(
            samples, "grpc_server_handled_total", **FIND_USER_LABELS, grpc_code="UNAVAILABLE"
        )

    def test_the_kubelets_health_checks_are_counted_too(self, observed: ServerProcess) -> None:
        with observed.channel() as channel:
            health_status(channel, "liveness", timeout_s=5)
        samples = scrape(metrics_port(observed))
        check = {"grpc_type": "unary", "grpc_service": "grpc.health.v1.Health"}
        assert value(
            samples, "grpc_server_handled_total", **check, grpc_method="Check", grpc_code="OK"
        )

    def test_metrics_are_served_at_the_metrics_path(self, observed: ServerProcess) -> None:
        url = f"http://127.0.0.1:{metrics_port(observed)}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")


class TestDatabaseMetrics:
    def test_queries_are_timed_and_the_pool_is_seen(self, observed: ServerProcess) -> None:
        port = metrics_port(observed)
        before = scrape(port)
        find(observed, KRISHNA)
        after = scrape(port)
        queries = "findsvc_db_query_duration_seconds_count"
        assert value(after, queries, outcome="ok") > value(before, queries, outcome="ok")
        assert value(after, "findsvc_db_pool_connections_idle") >= 1
        assert value(after, "findsvc_db_pool_connections_in_use") == 0

    def test_the_database_is_up_when_its_table_answers(self, observed: ServerProcess) -> None:
        assert value(scrape(metrics_port(observed)), "findsvc_db_up") == 1

    def test_the_database_is_down_when_it_does_not_answer(self, db_down: ServerProcess) -> None:
        samples = scrape(metrics_port(db_down))
        assert ("findsvc_db_up", frozenset()) in samples
        assert value(samples, "findsvc_db_up") == 0


class TestAccessLogs:
    def test_a_call_is_logged_with_method_code_duration_peer_and_request_id(
        self, observed: ServerProcess
    ) -> None:
        request_id = f"req-{time.monotonic_ns()}"
        find(observed, "NobodyByThisName", request_id=request_id)
        entry = wait_for_log(observed, request_id)
        assert entry["level"] == "INFO"
        assert entry["method"] == FIND_USER_METHOD
        assert entry["code"] == "NOT_FOUND"
        assert entry["duration_ms"] >= 0
        assert entry["peer"].startswith("ipv4:127.0.0.1:")
        assert entry["time"] and entry["message"]

    def test_a_call_without_a_request_id_has_none(self, observed: ServerProcess) -> None:
        logged_before = len(access_entries(observed))
        find(observed, KRISHNA)
        entry = wait_for_access_entry(observed, logged_before)
        assert entry["code"] == "OK"
        assert "request_id" not in entry

    def test_by_default_only_calls_not_ending_ok_are_logged(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        quiet = start_server({"FINDSVC_DB_URL": users_db_url})
        assert find(quiet, KRISHNA, request_id="req-ok") == grpc.StatusCode.OK
        find(quiet, "NobodyByThisName", request_id="req-missing")
        assert wait_for_log(quiet, "req-missing")["code"] == "NOT_FOUND"
        assert not [e for e in log_entries(quiet) if e.get("request_id") == "req-ok"]

    def test_a_request_id_that_is_not_a_token_is_dropped(self, observed: ServerProcess) -> None:
        logged_before = len(access_entries(observed))
        find(observed, "NobodyAtAllHere", request_id="bad id {json}")
        entry = wait_for_access_entry(observed, logged_before)
        assert entry["code"] == "NOT_FOUND"
        assert "request_id" not in entry
        assert "bad id" not in observed.logs

    def test_every_line_is_json_with_time_level_and_message(self, observed: ServerProcess) -> None:
        lines = observed.logs.strip().splitlines()
        assert lines
        assert all(line.startswith("{") for line in lines)
        assert all({"time", "level", "message"} <= entry.keys() for entry in log_entries(observed))

    def test_no_phone_number_is_ever_logged(self, observed: ServerProcess) -> None:
        logged_before = len(access_entries(observed))
        assert find(observed, KRISHNA) == grpc.StatusCode.OK
        assert wait_for_access_entry(observed, logged_before)["code"] == "OK"
        assert find(observed, "BrokenPhone1") == grpc.StatusCode.DATA_LOSS
        assert wait_for_access_entry(observed, logged_before + 1)["code"] == "DATA_LOSS"
        assert str(KRISHNA_PHONE) not in observed.logs
        assert '"12345"' not in observed.logs and ": 12345" not in observed.logs

    def test_health_checks_stay_out_of_the_info_log(self, observed: ServerProcess) -> None:
        observed.wait_health()
        assert not [e for e in log_entries(observed) if "/grpc.health.v1.Health/" in e["message"]]


class TestMetricsPort:
    # With several processes the supervisor, not the server, serves /metrics.
    @pytest.mark.parametrize("processes", ["1", "2"])
    def test_a_taken_metrics_port_is_one_line_and_exit_code_2(
        self, observed: ServerProcess, users_db_url: str, processes: str, start_server: StartServer
    ) -> None:
        taken = str(metrics_port(observed))
        clash = start_server(
            {
                "FINDSVC_DB_URL": users_db_url,
                "FINDSVC_METRICS_PORT": taken,
                "FINDSVC_PROCESSES": processes,
            },
            wait=False,
        )
        assert clash.process.wait(timeout=30) == 2
        lines = [line for line in clash.logs.splitlines() if not line.startswith("{")]
        assert lines == [f"findsvc: cannot serve metrics on port {taken}"]


def access_entries(server: ServerProcess) -> list[dict[str, object]]:
    return [e for e in log_entries(server) if e.get("method") == FIND_USER_METHOD]


def wait_for_access_entry(server: ServerProcess, logged_before: int) -> dict[str, object]:
    """The access log entry after the first `logged_before` ones, once it is written."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        entries = access_entries(server)
        if len(entries) > logged_before:
            return entries[logged_before]
        time.sleep(0.05)
    raise AssertionError(f"no access log entry {logged_before + 1}:\n{server.logs}")


def wait_for_log(server: ServerProcess, request_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for entry in log_entries(server):
            if entry.get("request_id") == request_id:
                return entry
        time.sleep(0.05)
    raise AssertionError(f"no access log with {request_id}:\n{server.logs}")
