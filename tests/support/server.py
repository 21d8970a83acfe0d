"""A real `findsvc serve` process on loopback, as users and the kubelet meet it; other
`findsvc` commands run to their end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.mariadb import free_port

SERVING = health_pb2.HealthCheckResponse.SERVING


class ServerProcess:
    def __init__(
        self,
        env: Mapping[str, str],
        args: tuple[str, ...] = (),
        own_process_group: bool = False,
        port: int | None = None,
    ) -> None:
        """own_process_group: a group of its own, to signal as a terminal or systemd would.
        port: a given one (a pod restarted at the same address), else a free one."""
        self.port = port or free_port()
        log_fd, log_path = tempfile.mkstemp(prefix="findsvc-", suffix=".log")
        self._log_path = Path(log_path)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FINDSVC_")},
            "FINDSVC_HOST": "127.0.0.1",
            "FINDSVC_PORT": str(self.port),
            "FINDSVC_METRICS_PORT": "0",
            "FINDSVC_DRAIN_S": "0",
            "FINDSVC_HEALTH_INTERVAL_S": "0.5",
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "findsvc", "serve", *args],
            env=self.env,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            start_new_session=own_process_group,
        )
        os.close(log_fd)
        self.target = f"127.0.0.1:{self.port}"

    def channel(self, credentials: grpc.ChannelCredentials | None = None) -> grpc.Channel:
        """Plaintext, or TLS with these credentials."""
        if credentials is None:
            return grpc.insecure_channel(self.target)
        return grpc.secure_channel(self.target, credentials)

    def wait_health(
        self,
        service: str = "",
        status: int = SERVING,
        timeout_s: float = 20,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        deadline = time.monotonic() + timeout_s
        last = None
        with self.channel(credentials) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited {self.process.returncode}:\n{self.logs}")
                try:
                    last = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
                    if last.status == status:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.05)
        raise AssertionError(f"health of {service!r} stayed {last}:\n{self.logs}")

    @property
    def logs(self) -> str:
        return self._log_path.read_text(errors="replace")

    def terminate(self, timeout_s: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log_path.unlink(missing_ok=True)


def healthy(server: ServerProcess) -> ServerProcess:
    """The server once it serves; killed, not left behind, if it never does."""
    try:
        server.wait_health()
    except BaseException:
        server.close()
        raise
    return server


def children_of(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def is_running(pid: int) -> bool:
    """Alive and not yet a zombie (an orphan's zombie waits for a reaper that may never come)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def findsvc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`findsvc ARGS...` run to its end, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "findsvc", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
