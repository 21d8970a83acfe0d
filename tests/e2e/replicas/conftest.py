"""Fixtures of the replica tests: one primary and replica for the package, a findsvc serving
from them, and the replica stalled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.server import ServerProcess, StartServer
from tests.support.replication import (
    MAX_LAG_S,
    Replicated,
    replicated_users_db,
    replication,
    wait_for_health,
)


@pytest.fixture(scope="package")
def replicated() -> Iterator[Replicated]:
    with replicated_users_db() as pair:
        yield pair


@pytest.fixture
def server(start_server: StartServer, replicated: Replicated) -> ServerProcess:
    process = start_server(replicated.server_env(MAX_LAG_S))
    wait_for_health(process, replicated, healthy=True)
    return process


@pytest.fixture
def stalled(replicated: Replicated) -> Iterator[None]:
    """The replica's SQL thread stopped: it receives the primary's changes, applies none."""
    replication(replicated.replica_url, "STOP SLAVE SQL_THREAD")
    try:
        yield
    finally:
        replication(replicated.replica_url, "START SLAVE SQL_THREAD")
