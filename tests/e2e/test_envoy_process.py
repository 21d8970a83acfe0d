"""Envoy as a process beside findsvc: how often it checks findsvc's health, and
`python -m devkit.envoy` (what `make rest` runs) stopping its Envoy on any stop signal."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit import ROOT
from devkit.envoy import EnvoyProcess
from devkit.mariadb import free_port
from devkit.server import ServerProcess
from tests.support.load import children_of, is_running, wait_for
from tests.support.rest import health_check_attempts, ready_envoy


@pytest.fixture
def idle_envoy(server: ServerProcess) -> Iterator[EnvoyProcess]:
    """A fresh Envoy no REST call reaches."""
    with ready_envoy(server) as envoy:
        yield envoy


class TestHealthChecks:
    def test_envoy_checks_findsvc_every_5_s_even_with_no_traffic(
        self, idle_envoy: EnvoyProcess
    ) -> None:
        # Three checks: the first at start, then two more 5 s apart (Envoy's default
        # without traffic would be one a minute). 30 s is room for a loaded machine.
        wait_for(lambda: health_check_attempts(idle_envoy) >= 3, timeout_s=30, step_s=0.5)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


def _config_dir(envoy_pid: int) -> Path:
    """The temp dir Envoy's --config-path points into."""
    args = Path(f"/proc/{envoy_pid}/cmdline").read_bytes().split(b"\0")
    return Path(args[args.index(b"--config-path") + 1].decode()).parent


class TestDevkitEnvoy:
    @pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
    def test_a_stop_signal_stops_envoy_and_removes_its_temp_dir(
        self, server: ServerProcess, stop: signal.Signals
    ) -> None:
        ready_port = free_port()
        ports = ("--port", str(free_port()), "--ready-port", str(ready_port))
        runner = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devkit.envoy",
                "--upstream-port",
                str(server.port),
                *ports,
                "--admin-port",
                str(free_port()),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: _ready(ready_port), timeout_s=30)
            [envoy_pid] = children_of(runner.pid)
            config_dir = _config_dir(envoy_pid)
            assert config_dir.is_dir()
            runner.send_signal(stop)
            assert runner.wait(timeout=30) == 0
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.wait()
        assert not is_running(envoy_pid)
        assert not config_dir.exists()
