"""The DB metrics, fed by the MySQL adapter's pool on a real MariaDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.config import DatabaseUrl
from findsvc.domain.model import Name
from findsvc.domain.ports import RepositoryUnavailable
from findsvc.telemetry.metrics import Metrics
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE
from tests.support.db import admin_connection, create_database, insert_user


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
def repo(mysql_url: DatabaseUrl, metrics: Metrics) -> Iterator[MySqlUserRepository]:
    repository = MySqlUserRepository(
        mysql_url, mysql_url.password, 4, 2.0, 5.0, pool_observer=metrics
    )
    yield repository
    repository.close()


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def pool_connections(metrics: Metrics) -> tuple[float | None, float | None]:
    """(in use, idle), as the gauges say."""
    return (
        sample(metrics, "findsvc_db_pool_connections_in_use"),
        sample(metrics, "findsvc_db_pool_connections_idle"),
    )


class TestPoolMetrics:
    def test_a_query_is_timed_and_its_connection_goes_back_idle(
        self, mysql_url: DatabaseUrl, repo: MySqlUserRepository, metrics: Metrics
    ) -> None:
        create_database(mysql_url)
        insert_user(mysql_url, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
        repo.get(Name("KrishnaMohan"))
        repo.get(Name("KrishnaMohan"))
        assert sample(metrics, "findsvc_db_query_duration_seconds_count", outcome="ok") == 2
        assert pool_connections(metrics) == (0, 1)  # in use, idle

    def test_a_failed_query_is_counted_and_a_connection_the_server_answered_on_is_kept(
        self, mysql_url: DatabaseUrl, repo: MySqlUserRepository, metrics: Metrics
    ) -> None:
        with admin_connection(mysql_url) as conn, conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{mysql_url.database}`")  # but no table
        with pytest.raises(RepositoryUnavailable):
            repo.get(Name("KrishnaMohan"))
        assert sample(metrics, "findsvc_db_query_duration_seconds_count", outcome="error") == 1
        assert pool_connections(metrics) == (0, 1)  # the server answered: the connection is kept

    def test_closing_the_repository_empties_the_pool(
        self, mysql_url: DatabaseUrl, repo: MySqlUserRepository, metrics: Metrics
    ) -> None:
        create_database(mysql_url)
        repo.ping()
        assert sample(metrics, "findsvc_db_pool_connections_idle") == 1
        repo.close()
        assert sample(metrics, "findsvc_db_pool_connections_idle") == 0
