"""Values that follow from the settings, stated once on Settings."""

from __future__ import annotations

import pytest

from findsvc.config import Settings, parse_database_url


class TestTheBreakersWait:
    def test_outlasts_a_readiness_check_and_its_query(self) -> None:
        settings = Settings(health_interval_s=2.0, db_timeout_s=5.0)
        assert settings.breaker_retry_after_s == 8.0


class TestAReadinessCheck:
    @pytest.mark.parametrize(
        ("interval_s", "db_timeout_s", "check_s"),
        [(2.0, 5.0, 2.0), (0.5, 5.0, 1.0), (10.0, 5.0, 5.0), (0.5, 0.3, 0.3)],
        ids=["the interval", "a second at least", "a call's cap at most", "the cap first"],
    )
    def test_gets_the_interval_within_bounds(
        self, interval_s: float, db_timeout_s: float, check_s: float
    ) -> None:
        settings = Settings(health_interval_s=interval_s, db_timeout_s=db_timeout_s)
        assert settings.readiness_check_s == check_s


class TestQueriesAndThreads:
    def test_queries_in_flight_are_the_pooled_connections(self) -> None:
        assert Settings(db_pool_size=7).db_queries_in_flight == 7


class TestTheStore:
    @pytest.mark.parametrize(
        ("url", "over_network"),
        [("mysql://findsvc@db:3306/glarimy", True), ("sqlite:///var/users.db", False)],
        ids=["mysql", "sqlite"],
    )
    def test_is_over_the_network_only_for_a_database_server(
        self, url: str, over_network: bool
    ) -> None:
        assert Settings(db_url=parse_database_url(url)).db_over_network is over_network

    def test_the_embedded_default_is_local(self) -> None:
        assert not Settings().db_over_network
