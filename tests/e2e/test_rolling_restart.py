"""A rolling restart under load drops no call.

Two findsvc servers sit behind one round_robin channel, as a headless Service gives a gRPC
client its pods, with the published service config: client-side health checking, so the
channel stops picking a server the moment its drain turns readiness NOT_SERVING. The client
retries UNAVAILABLE only, as most service configs do: not the CANCELLED that grpc's own
shutdown gives calls on the wire (see closing_gate).
Each server in turn gets SIGTERM and a fresh one takes its address, as a pod restarted in
place: a channel with a static address list cannot learn a new one, and Kubernetes gives
the replacement pod a new IP that DNS re-resolution finds, which a test on loopback cannot
model more honestly than by reusing the port.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import grpc

from devkit.server import ServerProcess, StartServer
from findsvc.client import SERVICE_CONFIG
from tests.support.calls import KRISHNA
from tests.support.load import Load, wait_for

NAMES = (KRISHNA, "NobodyByThisName")


def retrying_unavailable_only() -> dict[str, Any]:
    config = copy.deepcopy(SERVICE_CONFIG)
    config["methodConfig"][0]["retryPolicy"]["retryableStatusCodes"] = ["UNAVAILABLE"]
    return config


def rolling_channel(target: str) -> grpc.Channel:
    # Quick reconnects: the restarted server is back at its address within a second or two.
    options = [
        ("grpc.service_config", json.dumps(retrying_unavailable_only())),
        ("grpc.enable_retries", 1),
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 200),
    ]
    return grpc.insecure_channel(target, options=options)


def pod_env(users_db_url: str) -> dict[str, str]:
    return {"FINDSVC_DB_URL": users_db_url, "FINDSVC_DRAIN_S": "0.5", "FINDSVC_ACCESS_LOG": "all"}


def serves_calls(server: ServerProcess) -> bool:
    return "FindUser" in server.logs


class TestRollingRestart:
    def test_sigterm_and_replace_each_server_under_load_and_no_call_fails(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        pods = [start_server(pod_env(users_db_url)) for _ in range(2)]
        target = "ipv4:" + ",".join(f"127.0.0.1:{server.port}" for server in pods)
        # Many callers: more calls on the wire when a server stops, where calls were lost.
        with Load(target, NAMES, callers=16, channel_factory=rolling_channel) as load:
            for i, old in enumerate(list(pods)):
                wait_for(lambda old=old: serves_calls(old), 10)
                assert old.terminate() == 0
                pods[i] = start_server(pod_env(users_db_url), port=old.port)
                old.close()
            wait_for(lambda: all(serves_calls(server) for server in pods), 10)
        codes = load.codes()
        assert sum(codes.values()) > 500
        assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND}, codes
