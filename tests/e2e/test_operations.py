"""What operators and the kubelet see: health, reflection, grpcurl, signals, bad config."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from devkit.server import ServerProcess, StartServer
from tests.support.calls import (
    KRISHNA_JSON,
    READINESS,
    SERVING,
    findsvc,
    health_status,
)

GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or "grpcurl"


class TestHealth:
    @pytest.mark.parametrize("name", [*READINESS, "liveness"])
    def test_every_health_name_is_serving(self, server: ServerProcess, name: str) -> None:
        with server.channel() as channel:
            assert health_status(channel, name, timeout_s=5) == SERVING

    def test_an_unknown_health_name_is_not_found(self, server: ServerProcess) -> None:
        with server.channel() as channel, pytest.raises(grpc.RpcError) as raised:
            health_status(channel, "nope", timeout_s=5)
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND


class TestGrpcurl:
    def test_list_works_through_reflection(self, server: ServerProcess) -> None:
        listed = subprocess.run(
            [GRPCURL, "-plaintext", server.target, "list"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "glarimy.ums.find.v1.FindService" in listed.stdout.split()
        assert "grpc.health.v1.Health" in listed.stdout.split()

    def test_find_user_works_through_reflection(self, server: ServerProcess) -> None:
        called = subprocess.run(
            [
                GRPCURL,
                "-plaintext",
                "-d",
                '{"name": "KrishnaMohan"}',
                server.target,
                "glarimy.ums.find.v1.FindService/FindUser",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(called.stdout) == KRISHNA_JSON

    def test_reflection_can_be_turned_off(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        quiet = start_server({"FINDSVC_DB_URL": users_db_url, "FINDSVC_REFLECTION": "0"})
        listed = subprocess.run(
            [GRPCURL, "-plaintext", quiet.target, "list"], capture_output=True, text=True
        )
        assert listed.returncode != 0
        assert "server does not support the reflection API" in listed.stderr


class TestCli:
    def test_find_prints_the_record_as_grpcurl_and_rest_do(self, server: ServerProcess) -> None:
        result = findsvc("find", "KrishnaMohan", "--target", server.target)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == KRISHNA_JSON

    def test_find_names_the_status_and_fails_when_not_found(self, server: ServerProcess) -> None:
        result = findsvc("find", "NobodyByThisName", "--target", server.target)
        assert result.returncode != 0
        assert "NOT_FOUND" in result.stderr


class TestLifecycle:
    def test_sigterm_stops_the_server_with_exit_code_0(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        process = start_server({"FINDSVC_DB_URL": users_db_url})
        assert process.terminate() == 0

    @pytest.mark.parametrize(
        ("env", "named"),
        [
            ({"FINDSVC_PORT": "not-a-port"}, "FINDSVC_PORT"),
            ({"FINDSVC_DB_URL": "oracle://db/x"}, "FINDSVC_DB_URL"),
            ({"FINDSVC_DB_PASSWORD_FILE": "/nonexistent"}, "FINDSVC_DB_PASSWORD_FILE"),
            # A readiness check in a busy loop; a duration that overflows gRPC's 32-bit ms.
            ({"FINDSVC_HEALTH_INTERVAL_S": "0"}, "FINDSVC_HEALTH_INTERVAL_S"),
            ({"FINDSVC_KEEPALIVE_TIME_S": "3000000"}, "FINDSVC_KEEPALIVE_TIME_S"),
        ],
    )
    def test_bad_config_is_one_line_and_exit_code_2(
        self, env: dict[str, str], named: str, start_server: StartServer
    ) -> None:
        bad = start_server(env, wait=False)
        assert bad.process.wait(timeout=30) == 2
        lines = bad.logs.strip().splitlines()
        assert len(lines) == 1
        assert named in lines[0]

    def test_a_taken_port_is_one_line_and_exit_code_2(
        self, server: ServerProcess, start_server: StartServer
    ) -> None:
        clash = start_server(
            {"FINDSVC_PORT": str(server.port), "FINDSVC_DB_URL": "sqlite:///x"}, wait=False
        )
        assert clash.process.wait(timeout=30) == 2
        assert "Traceback" not in clash.logs


class TestEmbeddedDefault:
    def test_the_demo_set_is_served_from_sqlite(
        self, tmp_path: Path, start_server: StartServer
    ) -> None:
        url = f"sqlite:///{tmp_path / 'demo.db'}"
        seeded = findsvc("db", "seed", "--demo", "--db-url", url)
        assert seeded.returncode == 0, seeded.stderr
        demo = start_server({"FINDSVC_DB_URL": url})
        result = findsvc("find", "KrishnaMohan", "--target", demo.target)
        assert json.loads(result.stdout) == KRISHNA_JSON
