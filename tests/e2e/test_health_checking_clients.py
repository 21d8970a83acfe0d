"""Every caller may turn on client-side health checking: one Watch stream per connection.

A channel with `healthCheckConfig` holds a Watch on each connection for as long as the
connection lives, so a server holds one for every client connection. Channels here each get
a connection of their own (a local subchannel pool), as separate services' pods would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import grpc

from devkit.server import ServerProcess, StartServer
from findsvc.client import SERVICE_CONFIG
from findsvc.entrypoints.health_service import WATCHES_PER_CONNECTION
from tests.support.calls import FIND_SERVICE, KRISHNA, SERVING, answers_within_a_second, find
from tests.support.load import idle_watches, rss_kib, thread_count, wait_for

CLIENT_CONNECTIONS = 300


# grpcio shares one connection among a process's channels to one address unless told not to.
OWN_CONNECTION = ("grpc.use_local_subchannel_pool", 1)


def health_checking_channel(target: str) -> grpc.Channel:
    options = [
        ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
        ("grpc.enable_retries", 1),
        OWN_CONNECTION,
    ]
    return grpc.insecure_channel(target, options=options)


@contextmanager
def health_checking_channels(target: str, count: int) -> Iterator[list[grpc.Channel]]:
    with ExitStack() as stack:
        yield [stack.enter_context(health_checking_channel(target)) for _ in range(count)]


class TestHundredsOfHealthCheckingClients:
    def test_every_health_checking_client_connection_is_answered(
        self, users_db_url: str, start_server: StartServer
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": users_db_url})
        pid = server.process.pid
        threads_before, rss_before = thread_count(pid), rss_kib(pid)
        with health_checking_channels(server.target, CLIENT_CONNECTIONS) as channels:
            codes = [find(channel, KRISHNA, timeout_s=20) for channel in channels]
            assert codes == [grpc.StatusCode.OK] * CLIENT_CONNECTIONS
            # Each connection's Watch holds a thread: the positive marker that they are open.
            wait_for(lambda: thread_count(pid) - threads_before >= CLIENT_CONNECTIONS, 30)
            with server.channel() as prober:
                answers_within_a_second(prober)
            cost = (thread_count(pid) - threads_before, rss_kib(pid) - rss_before)
        if os.environ.get("REPORT_WATCH_COST"):
            print(f"{CLIENT_CONNECTIONS} watches: +{cost[0]} threads, +{cost[1]} KiB RSS")


class TestOneConnectionWithManyWatches:
    def test_one_connection_is_refused_past_its_own_limit_and_nobody_else_notices(
        self, server: ServerProcess
    ) -> None:
        with (
            health_checking_channels(server.target, 20) as others,
            grpc.insecure_channel(server.target, options=[OWN_CONNECTION]) as greedy,
            idle_watches(greedy, [FIND_SERVICE] * 200) as firsts,
        ):
            assert firsts.count(SERVING) == WATCHES_PER_CONNECTION
            assert firsts.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 200 - WATCHES_PER_CONNECTION
            # Other connections, each with its own Watch, and the probes, answer as ever.
            assert [find(channel, KRISHNA, timeout_s=5) for channel in others] == [
                grpc.StatusCode.OK
            ] * 20
            with (
                grpc.insecure_channel(server.target, options=[OWN_CONNECTION]) as prober,
                idle_watches(prober, [FIND_SERVICE]) as theirs,
            ):
                assert theirs == [SERVING]
                answers_within_a_second(prober)
