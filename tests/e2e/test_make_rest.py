"""`make rest` (devkit/rest.py): Envoy only in front of a findsvc that started, and both
stopped by any signal."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devkit.mariadb import free_port
from devkit.server import ServerProcess
from tests.support.calls import KRISHNA_JSON, findsvc
from tests.support.load import wait_for

SERVING_ENVOY = "envoy: REST on"


class Rest:
    def __init__(self, port: int, output: Path) -> None:
        self.port, self.rest_port = port, free_port()
        self.output = output
        arguments = {
            "--port": port,
            "--rest-port": self.rest_port,
            "--ready-port": free_port(),
            "--admin-port": free_port(),
        }
        flags = [part for flag, value in arguments.items() for part in (flag, str(value))]
        with output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devkit.rest", *flags],
                env={k: v for k, v in os.environ.items() if not k.startswith("FINDSVC_")}
                | {"FINDSVC_DB_URL": f"sqlite:///{output.parent / 'demo.db'}"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def logs(self) -> str:
        return self.output.read_text(errors="replace")


@contextmanager
def rest(port: int, tmp_path: Path) -> Iterator[Rest]:
    seeded = findsvc("db", "seed", "--demo", "--db-url", f"sqlite:///{tmp_path / 'demo.db'}")
    assert seeded.returncode == 0, seeded.stderr
    started = Rest(port, tmp_path / "rest.log")
    try:
        yield started
    finally:
        if started.process.poll() is None:
            started.process.kill()
            started.process.wait()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class TestMakeRest:
    def test_a_findsvc_that_cannot_start_starts_no_envoy(
        self, server: ServerProcess, tmp_path: Path
    ) -> None:
        with rest(server.port, tmp_path) as clash:  # the port of a findsvc already up
            assert clash.process.wait(timeout=60) == 2
            assert f"findsvc: cannot listen on {server.target}" in clash.logs
            assert SERVING_ENVOY not in clash.logs
            assert not listening(clash.rest_port)

    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
    def test_any_signal_stops_findsvc_and_envoy(
        self, tmp_path: Path, signum: signal.Signals
    ) -> None:
        with rest(free_port(), tmp_path) as both:
            wait_for(lambda: SERVING_ENVOY in both.logs, 60)
            url = f"http://127.0.0.1:{both.rest_port}/user/KrishnaMohan"
            with urllib.request.urlopen(url, timeout=10) as reply:
                assert reply.status == 200
                assert json.loads(reply.read()) == KRISHNA_JSON
            both.process.send_signal(signum)
            assert both.process.wait(timeout=60) == 128 + signum
            assert not listening(both.port)
            assert not listening(both.rest_port)
