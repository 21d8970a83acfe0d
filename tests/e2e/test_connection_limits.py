"""Idle connections cannot take the server's memory: a cap, an idle close, and the memory of
closed connections given back."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from devkit.server import ServerProcess, StartServer
from tests.support.calls import KRISHNA, find
from tests.support.idle_connections import idle_connections, open_count
from tests.support.load import rss_kib, wait_for

MIB = 1024


@pytest.fixture
def serve_users(
    start_server: StartServer, users_db_url: str
) -> Callable[[dict[str, str]], ServerProcess]:
    """`serve_users(settings)`: findsvc on the users' database, with these settings as well."""
    return lambda settings: start_server({"FINDSVC_DB_URL": users_db_url, **settings})


class TestCap:
    def test_connections_past_the_cap_are_closed_and_the_rest_serve(
        self, serve_users: Callable[[dict[str, str]], ServerProcess]
    ) -> None:
        server = serve_users({"FINDSVC_MAX_CONNECTIONS": "200"})
        with idle_connections(server.port, 300) as held:
            wait_for(lambda: open_count(held) == 200, timeout_s=30)
        # Once they are gone, a new client is served.
        with server.channel() as channel:
            wait_for(lambda: find(channel, KRISHNA) == grpc.StatusCode.OK, timeout_s=30)

    def test_an_idle_connection_is_closed_after_the_idle_time(
        self, serve_users: Callable[[dict[str, str]], ServerProcess]
    ) -> None:
        server = serve_users({"FINDSVC_CONNECTION_IDLE_S": "1"})
        with idle_connections(server.port, 50) as held:
            wait_for(lambda: open_count(held) == 50, timeout_s=10)
            wait_for(lambda: open_count(held) == 0, timeout_s=30)


class TestMemory:
    def test_waves_of_idle_connections_neither_grow_nor_keep_the_memory(
        self, serve_users: Callable[[dict[str, str]], ServerProcess]
    ) -> None:
        server = serve_users({})  # the default cap, 1000
        pid = server.process.pid
        before = rss_kib(pid)
        for _wave in range(3):
            with idle_connections(server.port, 3000) as held:
                wait_for(lambda held=held: open_count(held) <= 1000, timeout_s=60)
                # About 20 KiB each for the 1,000 it keeps; 3,000 would take over 50 MiB.
                assert rss_kib(pid) - before < 40 * MIB
            # Within a few trims (every 5 s), most of it is back: no creep from wave to wave.
            wait_for(lambda: rss_kib(pid) - before < 25 * MIB, timeout_s=30)
