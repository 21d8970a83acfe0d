"""A circuit breaker in front of a repository: while the store is down, calls fail at once.

Without it, every call during an outage would spend a worker thread on a connect timeout.
Closed: calls go through, and `failure_threshold` store failures in a row open the circuit
(a caller's own deadline running out, or a busy connection pool, is no store failure).
Open: calls raise RepositoryUnavailable without touching the store. The readiness probe
(`ping`) always reaches the store; its success closes the circuit and its failure opens it,
so the breaker and readiness agree. Should no probe fail or succeed for `retry_after_s`, one
trial call goes through (half-open) and closes the circuit when the store answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from findsvc.domain.model import DomainError, Name, User
from findsvc.domain.ports import (
    CheckedRepository,
    Lookup,
    RepositorySchemaMismatch,
    RepositoryTimeout,
    RepositoryUnavailable,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int,
        retry_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._failure_threshold = failure_threshold
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        """May a call reach the store now? While open, one trial call after retry_after_s."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self._trial_running or self._clock() - self._opened_at < self._retry_after_s:
                return False
            self._trial_running = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            was_open = self._opened_at is not None
            self._failures = 0
            self._opened_at = None
            self._trial_running = False
        if was_open:
            log.info("circuit closed: the database answers again")

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_running = False
            if self._opened_at is not None:
                self._opened_at = self._clock()  # the trial failed: wait again
                return
            if self._failures < self._failure_threshold:
                return
            self._opened_at = self._clock()
        log.warning("circuit open: failing calls fast while the database is unavailable")

    def trip(self) -> None:
        """Opens at once: the readiness probe found the store unreachable."""
        with self._lock:
            self._failures = max(self._failures, self._failure_threshold - 1)
        self.failed()

    def released(self) -> None:
        """A call ended saying nothing about the store (the caller's own deadline ran out)."""
        with self._lock:
            self._trial_running = False


R = TypeVar("R", bound=CheckedRepository)


class BreakerRepository(Generic[R]):
    """The repository port, with every method that reaches the store behind the breaker."""

    def __init__(self, inner: R, breaker: CircuitBreaker) -> None:
        self.inner = inner
        self.breaker = breaker
        # What opened the circuit, when it is no outage but a schema that does not fit: calls
        # refused meanwhile say so too.
        self._mismatch: RepositorySchemaMismatch | None = None

    def get(self, name: Name) -> User:
        return self._guarded(self.inner.get, name)

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        return self._guarded(self.inner.get_many, names)

    def ping(self) -> None:
        try:
            self.inner.ping()
        except RepositoryUnavailable as error:
            if _blames_store(error):
                self._failed(error)
                self.breaker.trip()
            raise
        self._mismatch = None
        self.breaker.succeeded()

    def close(self) -> None:
        self.inner.close()

    def _guarded(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self.breaker.allow():
            mismatch = self._mismatch
            if mismatch is not None:
                raise mismatch.fresh()
            raise RepositoryUnavailable("database unavailable (circuit open)")
        try:
            result = method(*args, **kwargs)
        except RepositoryUnavailable as error:
            if _blames_store(error):
                self._failed(error)
                self.breaker.failed()
            else:
                self.breaker.released()
            raise
        except DomainError:  # not found, or a corrupt row: the store did answer
            self.breaker.succeeded()
            raise
        except BaseException:
            self.breaker.released()
            raise
        self._mismatch = None
        self.breaker.succeeded()
        return result

    def _failed(self, error: RepositoryUnavailable) -> None:
        self._mismatch = error if isinstance(error, RepositorySchemaMismatch) else None


def _blames_store(error: RepositoryUnavailable) -> bool:
    return not isinstance(error, RepositoryTimeout) or error.blames_store
