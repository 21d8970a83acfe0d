"""Health that tells the truth: readiness follows the database, liveness the process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from grpc_health.v1 import health, health_pb2

from findsvc.contract import FIND_SERVICE_NAME
from findsvc.domain.deadline import deadline_in
from findsvc.domain.ports import RepositoryTimeout, RepositoryUnavailable

log = logging.getLogger(__name__)

READINESS_NAMES = ("", FIND_SERVICE_NAME)
LIVENESS_NAME = "liveness"

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Readiness:
    """Checks the database every interval and publishes the result to the health service."""

    def __init__(
        self,
        servicer: health.HealthServicer,
        ping: Callable[[], None],
        interval_s: float,
        check_budget_s: float | None = None,
    ) -> None:
        """check_budget_s: one check's time (Settings.readiness_check_s); the interval if None."""
        self._servicer = servicer
        self._ping = ping
        self._interval_s = interval_s
        self._check_budget_s = interval_s if check_budget_s is None else check_budget_s
        self._stopped = threading.Event()
        self._draining = False
        self._publish_lock = threading.Lock()  # a check never overwrites drain's NOT_SERVING
        self._thread = threading.Thread(target=self._run, name="readiness", daemon=True)
        self.database_up = False
        self._on_database_checked: Callable[[bool], None] = lambda _up: None
        servicer.set(LIVENESS_NAME, SERVING)
        self._publish(NOT_SERVING)

    def on_database_checked(self, observer: Callable[[bool], None]) -> None:
        """observer(up) hears every verdict, before the health service does."""
        self._on_database_checked = observer

    def start(self) -> None:
        self.check()
        self._thread.start()

    def check(self) -> None:
        try:
            with deadline_in(self._check_budget_s):
                self._ping()
            up = True
        except RepositoryTimeout as error:
            if not error.blames_store:
                return  # every connection busy serving calls: no verdict this time
            up = False
        except RepositoryUnavailable:
            up = False
        except Exception as error:  # noqa: BLE001 - a check that breaks says "not ready"
            log.warning("database check failed: %s", type(error).__name__)
            up = False
        if up != self.database_up:
            log.info("database %s", "reachable" if up else "unreachable")
        self.database_up = up
        self._on_database_checked(up)
        with self._publish_lock:
            if not self._draining:
                self._publish(SERVING if up else NOT_SERVING)

    def drain(self) -> None:
        """From now on the pod is leaving: never ready again."""
        with self._publish_lock:
            self._draining = True
            self._publish(NOT_SERVING)

    def stop(self) -> None:
        self._stopped.set()
        self._servicer.enter_graceful_shutdown()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                self.check()
            except Exception as error:  # noqa: BLE001 - readiness must outlive any one check
                log.error("readiness check failed: %s", type(error).__name__)

    def _publish(self, status: int) -> None:
        for name in READINESS_NAMES:
            self._servicer.set(name, status)
