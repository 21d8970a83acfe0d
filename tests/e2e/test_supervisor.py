"""`findsvc serve --processes 2` under the signals a terminal, systemd and the kernel send."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from devkit.server import ServerProcess, serving
from tests.support.calls import KRISHNA, NOT_SERVING, find, health_status
from tests.support.load import children_of, is_running, wait_for


@contextmanager
def supervised(
    users_db_url: str, tmp_path: Path, **settings: str
) -> Iterator[tuple[ServerProcess, list[int]]]:
    """Two processes in a process group of their own, and the children's pids; the metrics
    dir goes under tmp_path. At the end, the supervisor and any child left behind are killed."""
    env = {
        "FINDSVC_DB_URL": users_db_url,
        "FINDSVC_PROCESSES": "2",
        "TMPDIR": str(tmp_path),
        **settings,
    }
    with serving(env, own_process_group=True) as server:
        children = children_of(server.process.pid)  # both forked before either serves
        try:
            assert len(children) == 2
            yield server, children
        finally:
            for child in children:
                if is_running(child):
                    os.kill(child, signal.SIGKILL)


def metrics_dirs(tmp_path: Path) -> list[Path]:
    return list(tmp_path.glob("findsvc-metrics-*"))


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class TestOneStopSignal:
    @pytest.mark.parametrize(
        ("signum", "to_group"),
        [(signal.SIGINT, True), (signal.SIGTERM, True), (signal.SIGHUP, False)],
        ids=["Ctrl-C to the group", "SIGTERM to the group (systemd)", "SIGHUP to the supervisor"],
    )
    def test_drains_every_process_and_exits_0(
        self, users_db_url: str, tmp_path: Path, signum: signal.Signals, to_group: bool
    ) -> None:
        with supervised(users_db_url, tmp_path, FINDSVC_DRAIN_S="1") as (server, children):
            assert len(metrics_dirs(tmp_path)) == 1
            if to_group:
                os.killpg(server.process.pid, signum)
            else:
                server.process.send_signal(signum)
            with server.channel() as channel:
                # Draining: no longer ready, but still answering calls.
                wait_for(lambda: health_status(channel, "") == NOT_SERVING, 2)
                assert find(channel, KRISHNA) == grpc.StatusCode.OK
            assert server.process.wait(timeout=20) == 0, server.logs
            assert not any(is_running(child) for child in children)
            assert "second signal" not in server.logs
            assert metrics_dirs(tmp_path) == []


class TestASupervisorKilledBySigkill:
    def test_its_children_free_the_port_and_remove_the_metrics_dir(
        self, users_db_url: str, tmp_path: Path
    ) -> None:
        with supervised(users_db_url, tmp_path) as (server, children):
            server.process.kill()
            server.process.wait()
            # Within a few seconds: a process shows as a zombie while its last threads still
            # close their files, so the port is freed a moment after the children look gone.
            wait_for(lambda: not any(is_running(child) for child in children), 5)
            wait_for(lambda: port_is_free(server.port), 5)
            wait_for(lambda: metrics_dirs(tmp_path) == [], 5)


class TestAChildThatDies:
    def test_says_why_in_one_line_and_takes_the_others_down(
        self, users_db_url: str, tmp_path: Path
    ) -> None:
        with supervised(users_db_url, tmp_path) as (server, (victim, other)):
            os.kill(victim, signal.SIGKILL)
            assert server.process.wait(timeout=20) == 1
            assert f"server process {victim} was killed by SIGKILL" in server.logs
            assert not is_running(other)
            assert metrics_dirs(tmp_path) == []
