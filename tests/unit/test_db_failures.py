"""Whatever the driver raises, callers get UNAVAILABLE, the breaker counts it, the log names
its type only, and readiness keeps checking."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable

import pymysql
import pytest
from grpc_health.v1 import health, health_pb2

from findsvc import bootstrap
from findsvc.adapters.mysql.errors import describe, is_charset_error
from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.config import ConfigError, parse_database_url
from findsvc.domain.model import Name
from findsvc.domain.ports import RepositoryMisconfigured, RepositoryUnavailable
from findsvc.entrypoints.health import NOT_SERVING, READINESS_NAMES, SERVING, Readiness
from findsvc.policies.breaker import BreakerRepository, CircuitBreaker

URL = parse_database_url("mysql://findsvc@127.0.0.1:9/glarimy")
SECRET_DETAIL = "pässwörd€ at position 10"


def failing_connect(error: BaseException) -> Callable[..., object]:
    def connect(**_kwargs: object) -> object:
        raise error

    return connect


class TestAnyDriverFailure:
    @pytest.mark.parametrize(
        "error",
        [
            RuntimeError("cryptography package is required for sha256_password"),
            UnicodeEncodeError("latin-1", SECRET_DETAIL, 10, 11, "ordinal not in range"),
            ValueError(SECRET_DETAIL),
            pymysql.err.OperationalError(2003, SECRET_DETAIL),
        ],
    )
    def test_is_unavailable_logged_by_type_and_counted_by_the_breaker(
        self,
        error: BaseException,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        monkeypatch.setattr(pymysql, "connect", failing_connect(error))
        users = BreakerRepository(
            MySqlUserRepository(URL, "pw", 2, 1.0, 1.0), CircuitBreaker(3, 60.0)
        )
        for _ in range(3):
            with pytest.raises(RepositoryUnavailable):
                users.get(Name("KrishnaMohan"))
        assert users.breaker.is_open
        assert type(error).__name__ in caplog.text
        assert SECRET_DETAIL not in caplog.text and "pässw" not in caplog.text

    def test_a_fault_on_our_side_stops_the_start_with_one_line(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(pymysql, "connect", failing_connect(RuntimeError(SECRET_DETAIL)))
        with pytest.raises(ConfigError) as raised:
            bootstrap.check_store_client(MySqlUserRepository(URL, "pw", 2, 1.0, 1.0))
        message = str(raised.value)
        assert "RuntimeError" in message
        assert "\n" not in message and SECRET_DETAIL not in message

    def test_a_database_that_is_down_does_not_stop_the_start(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        refused = pymysql.err.OperationalError(2003, "Can't connect")
        monkeypatch.setattr(pymysql, "connect", failing_connect(refused))
        bootstrap.check_store_client(MySqlUserRepository(URL, "pw", 2, 1.0, 1.0))


class TestDescriptions:
    def test_a_certificate_that_fails_verification_is_named(self) -> None:
        error = pymysql.err.OperationalError(2003, "Can't connect")
        error.original_exception = ssl.SSLCertVerificationError(1, "unable to get issuer")  # type: ignore[attr-defined]
        assert "certificate verification failed" in describe(error)

    def test_a_refused_login_points_at_the_password_and_tls(self) -> None:
        text = describe(pymysql.err.OperationalError(1045, "Access denied for user 'x'"))
        assert "refused the login" in text and "FINDSVC_DB_TLS" in text
        assert "Access denied for user" not in text

    @pytest.mark.parametrize("code", [1267, 1271, 1366])
    def test_charset_errors_are_told_apart_from_store_failures(self, code: int) -> None:
        assert is_charset_error(pymysql.err.OperationalError(code, "Illegal mix"))
        assert not is_charset_error(pymysql.err.OperationalError(2013, "Lost connection"))


def published(servicer: health.HealthServicer) -> list[int]:
    """What a readiness probe reads now, for each readiness name."""
    return [
        servicer.Check(health_pb2.HealthCheckRequest(service=name), None).status
        for name in READINESS_NAMES
    ]


class TestReadinessSurvivesAnything:
    @pytest.mark.parametrize("error", [KeyError("x"), RepositoryMisconfigured("x")])
    def test_a_check_that_raises_anything_means_not_serving(self, error: Exception) -> None:
        failing = False

        def ping() -> None:
            if failing:
                raise error

        servicer = health.HealthServicer()
        readiness = Readiness(servicer, ping, 60)
        readiness.check()
        assert published(servicer) == [SERVING, SERVING]  # ready: both names, whole and Find
        failing = True
        readiness.check()
        assert readiness.database_up is False
        assert published(servicer) == [NOT_SERVING, NOT_SERVING]

    def test_the_checking_thread_outlives_a_failing_check(self) -> None:
        servicer = health.HealthServicer()
        checks: list[int] = []
        recovered = threading.Event()

        def ping() -> None:
            checks.append(1)
            if len(checks) < 4:
                raise AssertionError("a bug in a check")

        def observer(up: bool) -> None:
            if not up:
                raise RuntimeError("a bug in an observer")
            recovered.set()

        readiness = Readiness(servicer, ping, 0.01)
        readiness.on_database_checked(observer)
        readiness._thread.start()
        try:
            assert recovered.wait(10)
            assert readiness.database_up is True
            request = health_pb2.HealthCheckRequest(service="")
            assert servicer.Check(request, None).status == health_pb2.HealthCheckResponse.SERVING
        finally:
            readiness.stop()
