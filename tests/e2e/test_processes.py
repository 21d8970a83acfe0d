"""`findsvc serve --processes 2`: two servers on one port, stopped together by one SIGTERM."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grpc

from devkit.server import ServerProcess, StartServer
from glarimy.ums.find.v1 import find_service_pb2, find_service_pb2_grpc
from tests.support.calls import FIND_SERVICE, KRISHNA, KRISHNA_PHONE
from tests.support.load import children_of, wait_for
from tests.support.metrics import metrics_port, scrape, value

# Other work that keeps one CPU busy: a loop kept to the CPU given as its argument.
BUSY_LOOP = "import os, sys; os.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True: pass"


def find_on_a_new_connection(target: str) -> find_service_pb2.UserRecord:
    # A channel of its own, not shared: each call may land on either process.
    options = [("grpc.use_local_subchannel_pool", 1)]
    with grpc.insecure_channel(target, options=options) as channel:
        stub = find_service_pb2_grpc.FindServiceStub(channel)
        return stub.FindUser(find_service_pb2.FindUserRequest(name=KRISHNA), timeout=5)


class TestTwoProcesses:
    def test_two_processes_serve_and_one_sigterm_stops_both_with_exit_0(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": users_db_url, "FINDSVC_PROCESSES": "2"})
        children = children_of(server.process.pid)
        assert len(children) == 2
        for _ in range(6):
            assert find_on_a_new_connection(server.target).phone == KRISHNA_PHONE
        # One /metrics for both processes: every call is counted, whichever served it.
        port = metrics_port(server)
        handled = value(
            scrape(port),
            "grpc_server_handled_total",
            grpc_type="unary",
            grpc_service=FIND_SERVICE,
            grpc_method="FindUser",
            grpc_code="OK",
        )
        assert handled == 6
        # One series for the pod, 1 once every process has read the table.
        wait_for(lambda: value(scrape(port), "findsvc_db_up") == 1, timeout_s=10)
        assert server.terminate() == 0
        assert all(not Path(f"/proc/{child}").exists() for child in children)

    def test_a_shared_port_of_0_is_a_config_error(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        server = start_server(
            {"FINDSVC_DB_URL": users_db_url, "FINDSVC_PROCESSES": "2", "FINDSVC_PORT": "0"},
            wait=False,
        )
        assert server.process.wait(timeout=20) == 2
        assert "cannot be shared" in server.logs
        assert "Traceback" not in server.logs

    def test_a_taken_port_stops_every_process_with_exit_code_2(
        self, server: ServerProcess, users_db_url: str, start_server: StartServer
    ) -> None:
        taken = start_server(
            {
                "FINDSVC_DB_URL": users_db_url,
                "FINDSVC_PROCESSES": "2",
                "FINDSVC_PORT": str(server.port),
            },
            wait=False,
        )
        assert taken.process.wait(timeout=30) == 2
        assert "cannot listen" in taken.logs
        assert "Traceback" not in taken.logs


def cpus_of_every_thread(pid: int) -> set[str]:
    """The Cpus_allowed_list of each of the process's threads, as /proc gives them."""
    lists = set()
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            text = status.read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended between the listing and the read
        for line in text.splitlines():
            if line.startswith("Cpus_allowed_list:"):
                lists.add(line.split(":", 1)[1].strip())
    return lists


class TestCpuPinning:
    def test_each_process_and_all_its_threads_keep_to_one_cpu_of_their_own(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        server = start_server(
            {"FINDSVC_DB_URL": users_db_url, "FINDSVC_PROCESSES": "2", "FINDSVC_CPU_PINNING": "1"}
        )
        assert find_on_a_new_connection(server.target).phone == KRISHNA_PHONE
        pinned = [cpus_of_every_thread(child) for child in children_of(server.process.pid)]
        # All threads of a process on one and the same CPU: "1", not "0-1" or "0,1".
        assert all(len(cpus) == 1 and next(iter(cpus)).isdigit() for cpus in pinned)
        if len(os.sched_getaffinity(0)) > 1:
            assert pinned[0] != pinned[1]
        assert server.terminate() == 0

    def test_unpinned_with_0(self, users_db_url: str, start_server: StartServer) -> None:
        server = start_server({"FINDSVC_DB_URL": users_db_url, "FINDSVC_CPU_PINNING": "0"})
        assert cpus_of_every_thread(server.process.pid) == cpus_of_every_thread(os.getpid())

    def test_by_default_one_cpu_at_a_time_and_off_one_other_work_keeps_busy(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": users_db_url})
        assert find_on_a_new_connection(server.target).phone == KRISHNA_PHONE
        (first,) = cpus_of_every_thread(server.process.pid)
        assert first.isdigit()
        if len(os.sched_getaffinity(0)) == 1:
            return  # nowhere to move to
        busy = subprocess.Popen([sys.executable, "-c", BUSY_LOOP, first])
        try:
            wait_for(lambda: first not in cpus_of_every_thread(server.process.pid), timeout_s=30)
            (moved,) = cpus_of_every_thread(server.process.pid)
            assert moved != first
            assert find_on_a_new_connection(server.target).phone == KRISHNA_PHONE
        finally:
            busy.kill()
            busy.wait()
