"""Every setting a careless operator can get wrong stops the server with one line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.mariadb import free_port
from devkit.server import StartServer


def one_line_and_exit_2(start_server: StartServer, env: dict[str, str], named: str) -> None:
    bad = start_server(env, wait=False)
    assert bad.process.wait(timeout=30) == 2
    lines = bad.logs.strip().splitlines()
    assert len(lines) == 1, bad.logs
    assert named in lines[0]


class TestUpperBounds:
    @pytest.mark.parametrize(
        "env",
        [
            # Past gRPC's 32-bit options: each was a traceback and exit 1.
            {"FINDSVC_MAX_MESSAGE_BYTES": "4294967296"},
            {"FINDSVC_MAX_CONCURRENCY": "3000000000"},
            # Threads or connections by the million.
            {"FINDSVC_WORKERS": "1000000"},
            {"FINDSVC_DB_POOL_SIZE": "1000000"},
        ],
        ids=lambda env: next(iter(env)),
    )
    def test_a_count_past_its_ceiling_is_one_line_and_exit_2(
        self, env: dict[str, str], start_server: StartServer
    ) -> None:
        one_line_and_exit_2(start_server, {"FINDSVC_DB_URL": "sqlite:///x", **env}, next(iter(env)))


class TestSeveralProcesses:
    def test_no_writable_temp_dir_is_one_line_and_exit_2(self) -> None:
        # A read-only root filesystem with no emptyDir for /tmp: every temp dir Python tries
        # is read-only, in a mount namespace of the server's own. Remounted read-only in place,
        # not hidden: the checkout and its venv may live under /tmp themselves.
        read_only_tmp = (
            "for d in /tmp /var/tmp; do mount --bind $d $d && mount -o remount,bind,ro $d $d;"
            ' done && cd /tmp && exec "$0" -m findsvc serve'
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FINDSVC_")},
            "FINDSVC_DB_URL": "sqlite:///x",
            "FINDSVC_PROCESSES": "2",
            "FINDSVC_PORT": str(free_port()),
            "FINDSVC_METRICS_PORT": "0",
            "PYTHONPATH": str(Path(__file__).parents[2]),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        result = subprocess.run(
            ["unshare", "--mount", "sh", "-c", read_only_tmp, sys.executable],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        lines = (result.stdout + result.stderr).strip().splitlines()
        assert len(lines) == 1, lines
        assert "temp" in lines[0]
