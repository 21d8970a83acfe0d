"""A real `findsvc serve` process on loopback, as users and the kubelet meet it.

`with ServerProcess(env) as server:` kills it on the way out; `serving(env)` also waits for it
to turn healthy, and kills it when it never does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devkit.mariadb import free_port
from findsvc.entrypoints.health import SERVING

# What every local server gets unless `env` says otherwise: loopback, /metrics on a free port,
# no drain, and readiness that follows the database within half a second.
DEFAULT_ENV = {
    "FINDSVC_HOST": "127.0.0.1",
    "FINDSVC_METRICS_PORT": "0",
    "FINDSVC_DRAIN_S": "0",
    "FINDSVC_HEALTH_INTERVAL_S": "0.5",
}


class ServerProcess:
    def __init__(
        self,
        env: Mapping[str, str],
        args: tuple[str, ...] = (),
        own_process_group: bool = False,
        port: int | None = None,
        keep_logs: bool = True,
        wrapper: tuple[str, ...] = (),
    ) -> None:
        """own_process_group: a group of its own, to signal as a terminal or systemd would.
        port: a given one (a pod restarted at the same address), else a free one.
        keep_logs: its output kept for `logs` (a temp file), else dropped.
        wrapper: a command that execs the server as its last arguments (a namespace of its
        own, say), so the process is still the server's."""
        self.port = port or free_port()
        log_fd = subprocess.DEVNULL
        self._log_path: Path | None = None
        if keep_logs:
            log_fd, log_path = tempfile.mkstemp(prefix="findsvc-", suffix=".log")
            self._log_path = Path(log_path)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FINDSVC_")},
            **DEFAULT_ENV,
            "FINDSVC_PORT": str(self.port),
            **env,
        }
        self.process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "findsvc", "serve", *args],
            env=self.env,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            start_new_session=own_process_group,
        )
        if keep_logs:
            os.close(log_fd)
        self.target = f"127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
        if self._log_path is None:
            return "(not kept)"
        return self._log_path.read_text(errors="replace")

    def terminate(self, timeout_s: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)


@contextmanager
def serving(
    env: Mapping[str, str],
    args: tuple[str, ...] = (),
    *,
    own_process_group: bool = False,
    port: int | None = None,
    wait: bool = True,
    service: str = "",
    status: int = SERVING,
    credentials: grpc.ChannelCredentials | None = None,
    wrapper: tuple[str, ...] = (),
) -> Iterator[ServerProcess]:
    """A server started with `env`, healthy (`service` at `status`) unless `wait` is False;
    killed on the way out, and at once when it never turns healthy."""
    with ServerProcess(env, args, own_process_group, port, wrapper=wrapper) as server:
        if wait:
            server.wait_health(service, status, credentials=credentials)
        yield server


# A factory of healthy servers, each closed when its owner ends: tests' `start_server` fixture.
StartServer = Callable[..., ServerProcess]
