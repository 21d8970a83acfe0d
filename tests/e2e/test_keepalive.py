"""Long-lived connections: a client's keepalive pings are allowed, and connections past their
maximum age are closed without failing a call."""

from __future__ import annotations

import time

import grpc

from devkit.server import ServerProcess, StartServer
from tests.support.calls import KRISHNA, find


class TestKeepalive:
    def test_a_client_pinging_every_second_is_not_sent_away(self, server: ServerProcess) -> None:
        options = [
            ("grpc.keepalive_time_ms", 1000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ]
        states: list[grpc.ChannelConnectivity] = []
        with grpc.insecure_channel(server.target, options=options) as channel:
            channel.subscribe(states.append, try_to_connect=True)
            assert find(channel, KRISHNA) == grpc.StatusCode.OK
            time.sleep(4)  # idle, pinging; a strict server says GOAWAY too_many_pings by now
            assert find(channel, KRISHNA) == grpc.StatusCode.OK
        ready_at = states.index(grpc.ChannelConnectivity.READY)
        assert states[ready_at:] == [grpc.ChannelConnectivity.READY]

    def test_connections_past_their_maximum_age_are_closed_and_calls_go_on(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        age = {"FINDSVC_MAX_CONNECTION_AGE_S": "1", "FINDSVC_MAX_CONNECTION_AGE_GRACE_S": "1"}
        server = start_server({"FINDSVC_DB_URL": users_db_url, **age})
        states: list[grpc.ChannelConnectivity] = []
        with server.channel() as channel:
            channel.subscribe(states.append, try_to_connect=True)
            codes = []
            for _ in range(10):  # about 3 s of calls on one channel
                codes.append(find(channel, KRISHNA))
                time.sleep(0.3)
        assert codes == [grpc.StatusCode.OK] * 10
        # A new connection was made: where a load balancer would pick a pod again.
        assert states.count(grpc.ChannelConnectivity.READY) >= 2
