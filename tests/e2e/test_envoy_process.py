"""Envoy as a process beside findsvc: how often it checks findsvc's health, and
`python -m devkit.envoy` (what `make rest` runs) stopping its Envoy on any stop signal."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devkit import ROOT
from devkit.envoy import EnvoyProcess
from devkit.mariadb import free_port
from devkit.server import ServerProcess
from tests.support.load import children_of, is_running, wait_for
from tests.support.rest import UNAVAILABLE, health_check_attempts, ready_envoy


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


class TestWithNoFindsvcBehindIt:
    def test_a_call_is_envoys_503_with_a_status_body(self) -> None:
        with EnvoyProcess(upstream_port=free_port()) as envoy:
            envoy.wait_ready()
            reply = envoy.request("GET", "/user/KrishnaMohan")
        assert reply.headers["content-type"] == "application/json"
        assert (reply.status, reply.json()) == (503, UNAVAILABLE)


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
        flags = {
            "--upstream-port": server.port,
            "--port": free_port(),
            "--ready-port": ready_port,
            "--admin-port": free_port(),
        }
        runner = subprocess.Popen(
            [sys.executable, "-m", "devkit.envoy", *(f"{k}={v}" for k, v in flags.items())],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        with _reaped(runner) as (children, dirs):
            wait_for(lambda: _ready(ready_port), timeout_s=30)
            [envoy_pid] = children_of(runner.pid)
            children.append(envoy_pid)
            config_dir = _config_dir(envoy_pid)
            dirs.append(config_dir)
            assert config_dir.is_dir()
            runner.send_signal(stop)
            assert runner.wait(timeout=30) == 0
            assert not is_running(envoy_pid)
            assert not config_dir.exists()


@contextmanager
def _reaped(runner: subprocess.Popen[bytes]) -> Iterator[tuple[list[int], list[Path]]]:
    """Whatever the test found, the runner, the children and the dirs it lists are gone
    afterwards (a failing runner must not leave an Envoy behind on a shared machine)."""
    children: list[int] = []
    dirs: list[Path] = []
    try:
        yield children, dirs
    finally:
        for pid in children:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        for leftover in dirs:
            shutil.rmtree(leftover, ignore_errors=True)
