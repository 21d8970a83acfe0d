"""A server whose stop() has finished, in the moment before its process exits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from findsvc.adapters.sqlite import SqliteUserRepository
from findsvc.bootstrap import build_server
from findsvc.config import Settings
from findsvc.entrypoints.chain import call_chain
from findsvc.entrypoints.grpc_server import FindServer
from tests.support.calls import KRISHNA, find


@pytest.fixture
def stopped_server(tmp_path: Path) -> Iterator[FindServer]:
    users = SqliteUserRepository(tmp_path / "users.db")
    settings = Settings(host="127.0.0.1", port=0, metrics_port=0, drain_s=0, grace_s=1)
    server = build_server(settings, users, call_chain(settings))
    server.start()
    server.stop()
    yield server
    users.close()


class TestAStoppedServer:
    def test_refuses_new_calls_with_unavailable_at_once(self, stopped_server: FindServer) -> None:
        # The process exits next; until it does, a call must be refused, not left hanging
        # (a refusal that cannot be queued would kill gRPC's polling thread, and the process
        # would never exit).
        with grpc.insecure_channel(f"127.0.0.1:{stopped_server.port}") as channel:
            for _ in range(3):
                assert find(channel, KRISHNA) == grpc.StatusCode.UNAVAILABLE
