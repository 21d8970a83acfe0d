"""gRPC core's own lines (plain text on stderr, from C++ files such as add_port.cc and
ssl_transport_security.cc) stay out of findsvc's output unless the operator asks for them
with GRPC_VERBOSITY: the log stays one JSON object a line, and a client cannot write to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grpc

from devkit.server import ServerProcess, StartServer
from tests.support.calls import KRISHNA, find
from tests.support.certs import Pki
from tests.support.load import wait_for

FAILED_HANDSHAKES = 20
CORE_HANDSHAKE_LINE = "ssl_transport_security.cc"


def not_json(server: ServerProcess) -> list[str]:
    return [line for line in server.logs.splitlines() if not line.startswith("{")]


def refuse_handshakes(server: ServerProcess, pki: Pki) -> None:
    """Clients with no certificate, each on a connection of its own: each handshake fails."""
    for _ in range(FAILED_HANDSHAKES):
        with server.channel(pki.credentials(client_cert=False)) as channel:
            assert find(channel, KRISHNA, timeout_s=5) == grpc.StatusCode.UNAVAILABLE


class TestATakenPort:
    def test_is_findsvc_s_one_line_and_nothing_from_grpc_core(
        self, server: ServerProcess, start_server: StartServer, tmp_path: Path
    ) -> None:
        clash = start_server(
            {"FINDSVC_PORT": str(server.port), "FINDSVC_DB_URL": f"sqlite:///{tmp_path}/x.db"},
            wait=False,
        )
        assert clash.process.wait(timeout=30) == 2
        # Log lines before it are JSON (the cache's mode, say); nothing else is there.
        assert not_json(clash) == [f"findsvc: cannot listen on {server.target}"]

    def test_is_one_line_from_the_console_script_too(
        self, server: ServerProcess, tmp_path: Path
    ) -> None:
        # The image's entrypoint is the `findsvc` script, not `python -m findsvc`.
        script = Path(sys.executable).parent / "findsvc"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("FINDSVC_", "GRPC_"))},
            "FINDSVC_HOST": "127.0.0.1",
            "FINDSVC_PORT": str(server.port),
            "FINDSVC_DB_URL": f"sqlite:///{tmp_path}/x.db",
        }
        clash = subprocess.run(
            [script, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert clash.returncode == 2
        assert clash.stderr.splitlines() == [f"findsvc: cannot listen on {server.target}"]
        assert all(line.startswith("{") for line in clash.stdout.splitlines())


class TestFailedClientHandshakes:
    def test_write_nothing_to_the_log_by_default(
        self, users_db_url: str, pki: Pki, start_server: StartServer
    ) -> None:
        env = {"FINDSVC_DB_URL": users_db_url, **pki.server_env(mutual=True)}
        server = start_server(env, credentials=pki.credentials(client_cert=True))
        refuse_handshakes(server, pki)
        with server.channel(pki.credentials(client_cert=True)) as channel:
            assert find(channel, KRISHNA) == grpc.StatusCode.OK  # the server is fine after
        assert not_json(server) == []

    def test_are_gRPC_core_s_lines_again_when_the_operator_sets_GRPC_VERBOSITY(
        self, users_db_url: str, pki: Pki, start_server: StartServer
    ) -> None:
        env = {
            "FINDSVC_DB_URL": users_db_url,
            **pki.server_env(mutual=True),
            "GRPC_VERBOSITY": "INFO",
        }
        server = start_server(env, credentials=pki.credentials(client_cert=True))
        refuse_handshakes(server, pki)
        wait_for(lambda: CORE_HANDSHAKE_LINE in server.logs, 20)
