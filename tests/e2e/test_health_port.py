"""The kubelet's probes on a port of their own: a flood on the gRPC port cannot starve them."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2

from devkit.server import ServerProcess, serving
from findsvc.entrypoints.health_port import CONNECTIONS, IDLE_CONNECTION_MS
from glarimy.ums.find.v1 import find_service_pb2
from tests.support.calls import FIND_SERVICE, KRISHNA, SERVING, health_status
from tests.support.h2_flood import Flood
from tests.support.idle_connections import idle_connections, open_count
from tests.support.load import wait_for
from tests.support.metrics import log_entries, logged_port

CHECK = "/grpc.health.v1.Health/Check"
FIND_USER = f"/{FIND_SERVICE}/FindUser"


def health_port(server: ServerProcess) -> int:
    return logged_port(server, "health_port")


def kubelet_probe(port: int, service: str) -> int | grpc.StatusCode:
    """As the kubelet probes: a new connection each time, a 1 s timeout."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            return health_status(channel, service, timeout_s=1)
        except grpc.RpcError as error:
            return error.code()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def probed_server(users_db_url: str) -> Iterator[ServerProcess]:
    with serving({"FINDSVC_DB_URL": users_db_url, "FINDSVC_HEALTH_PORT": "0"}) as process:
        yield process


class TestHealthPort:
    @pytest.mark.parametrize("service", ["liveness", "", FIND_SERVICE])
    def test_it_answers_every_health_name_as_the_grpc_port_does(
        self, probed_server: ServerProcess, service: str
    ) -> None:
        assert kubelet_probe(health_port(probed_server), service) == SERVING

    def test_it_serves_nothing_but_check(self, probed_server: ServerProcess) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{health_port(probed_server)}") as channel:
            find = channel.unary_unary(FIND_USER)
            with pytest.raises(grpc.RpcError) as raised:
                find(find_service_pb2.FindUserRequest(name=KRISHNA).SerializeToString(), timeout=2)
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED

    def test_no_probe_fails_while_check_and_find_user_flood_the_grpc_port(
        self, probed_server: ServerProcess
    ) -> None:
        port = health_port(probed_server)
        checks = health_pb2.HealthCheckRequest(service="liveness").SerializeToString()
        finds = find_service_pb2.FindUserRequest(name=KRISHNA).SerializeToString()
        floods = [Flood(probed_server.port, CHECK, checks) for _ in range(3)]
        floods.append(Flood(probed_server.port, FIND_USER, finds))
        with floods[0], floods[1], floods[2], floods[3]:
            wait_for(lambda: all(flood.answered > 200 for flood in floods), timeout_s=30)
            answered_before = [flood.answered for flood in floods]
            probes = [
                kubelet_probe(port, service)
                for _ in range(15)
                for service in ("liveness", FIND_SERVICE)
            ]
            # The flood went on all along: each connection had more answers meanwhile.
            assert all(
                f.answered > before for f, before in zip(floods, answered_before, strict=True)
            )
        assert probes == [SERVING] * len(probes)

    def test_it_holds_few_connections_and_drops_idle_ones(
        self, probed_server: ServerProcess
    ) -> None:
        port = health_port(probed_server)
        with idle_connections(port, 3 * CONNECTIONS) as held:
            wait_for(lambda: open_count(held) == CONNECTIONS, timeout_s=20)
            # Idle past IDLE_CONNECTION_MS, the ones it took are closed too.
            wait_for(lambda: open_count(held) == 0, timeout_s=10 + 2 * IDLE_CONNECTION_MS / 1000)
        assert kubelet_probe(port, "liveness") == SERVING


class TestOff:
    def test_unset_there_is_no_health_port(self, start_server: object, users_db_url: str) -> None:
        server = start_server({"FINDSVC_DB_URL": users_db_url})  # type: ignore[operator]
        with server.channel() as channel:
            assert health_status(channel, "liveness") == SERVING
        assert not [entry for entry in log_entries(server) if "health_port" in entry]
