"""Idle connections to the metrics port hold neither threads nor the port."""

from __future__ import annotations

from devkit.server import StartServer
from findsvc.telemetry.metrics_http import READ_TIMEOUT_S, SERVING_THREADS
from tests.support.idle_connections import idle_connections, open_count
from tests.support.load import thread_count, wait_for
from tests.support.metrics import metrics_port, scrape


class TestIdleConnections:
    def test_fifty_idle_connections_hold_a_few_threads_and_are_dropped_after_the_read_timeout(
        self, start_server: StartServer, users_db_url: str
    ) -> None:
        server = start_server({"FINDSVC_DB_URL": users_db_url})
        port = metrics_port(server)
        scrape(port)  # every thread the server keeps has started
        threads_before = thread_count(server.process.pid)
        with idle_connections(port, 50, hello=b"") as held:
            # Those no thread took are closed at once.
            wait_for(lambda: open_count(held) <= SERVING_THREADS, timeout_s=10)
            assert thread_count(server.process.pid) <= threads_before + SERVING_THREADS
            # The rest are dropped when they have sent nothing for the read timeout.
            wait_for(lambda: open_count(held) == 0, timeout_s=READ_TIMEOUT_S + 20)
        assert "findsvc_db_up" in {name for name, _labels in scrape(port)}
