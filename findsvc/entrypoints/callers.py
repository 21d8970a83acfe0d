"""The `caller` label of the call metrics and the access log, bounded by configuration.

A label value is a time series in every Prometheus that scrapes findsvc, so callers must not
be able to mint them: the tokens file's names pass as they are (the operator wrote them);
JWT subjects pass when they are on the allow-list, or, without one, the first
MAX_JWT_CALLERS distinct ones do; any other is OTHER. A call without a valid credential,
and every call when auth is off, is UNAUTHENTICATED.
"""

from __future__ import annotations

import threading
from collections.abc import Collection

UNAUTHENTICATED = "unauthenticated"
OTHER = "other"
MAX_JWT_CALLERS = 100


class CallerLabels:
    def __init__(
        self,
        jwt_callers: Collection[str] = (),
        max_jwt_callers: int = MAX_JWT_CALLERS,
    ) -> None:
        """`jwt_callers`: the allow-list; empty means the first `max_jwt_callers` seen."""
        self._allowed = frozenset(jwt_callers)
        self._max_seen = 0 if self._allowed else max_jwt_callers
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def of_jwt(self, subject: str) -> str:
        if subject in self._allowed or subject in self._seen:
            return subject
        with self._lock:
            if len(self._seen) < self._max_seen:
                self._seen.add(subject)
                return subject
        return OTHER
