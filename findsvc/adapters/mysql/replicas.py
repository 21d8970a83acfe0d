"""Read replicas on MariaDB or MySQL 8: each with its own pool, checked in the background.

Lag is measured by GTID positions, which needs no privilege beyond a login: every interval
the primary's position is sampled (`@@gtid_binlog_pos` on MariaDB, `@@gtid_executed` on
MySQL, both readable by any account), and each replica is asked, without waiting, whether it
has applied the samples (`MASTER_GTID_WAIT(pos, 0)` on MariaDB, `GTID_SUBSET` on MySQL).
A replica that has applied the sample taken at `t` holds everything committed before `t`, so
its lag is at most `now - t`; it has no lag when it has applied the newest sample. A replica
with a stopped SQL or IO thread applies nothing, and its lag grows from its first missed
write: it is out of service once that passes the limit. While the primary writes nothing a
stopped replica is not stale, and it keeps serving. `SHOW REPLICA STATUS` would say more, but
needs REPLICATION CLIENT (MySQL) or REPLICA MONITOR (MariaDB), which findsvc does not ask for.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from findsvc.adapters.mysql.gtid_positions import mariadb_covers
from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.domain.deadline import deadline_in
from findsvc.domain.model import Name, User
from findsvc.domain.ports import CheckedRepository, Lookup, RepositoryUnavailable
from findsvc.domain.read_after import Family, ReadAfter

log = logging.getLogger(__name__)

# A check that takes longer than this says the target is not fit to serve.
MIN_CHECK_BUDGET_S = 1.0


class ReplicaObserver(Protocol):
    def replica_checked(self, replica: str, healthy: bool, lag_s: float | None) -> None: ...


def server_family(server: MySqlUserRepository) -> Family:
    version = server.select_value("SELECT VERSION()")
    return "mariadb" if "mariadb" in str(version).lower() else "mysql"


def current_position(server: MySqlUserRepository, family: Family) -> str:
    variable = "@@GLOBAL.gtid_binlog_pos" if family == "mariadb" else "@@GLOBAL.gtid_executed"
    position = server.select_value(f"SELECT {variable}")
    # MySQL breaks a long GTID set into lines after its commas.
    return "".join(str(position or "").split())


def has_applied(server: MySqlUserRepository, family: Family, position: str, wait_s: float) -> bool:
    """Waits up to `wait_s` (0: not at all) for `position` to be applied on `server`."""
    if not position:
        return True
    wait_s = round(max(0.0, wait_s), 3)
    if family == "mariadb":
        return bool(server.select_value("SELECT MASTER_GTID_WAIT(%s, %s)", (position, wait_s)) == 0)
    if wait_s == 0:  # WAIT_FOR_EXECUTED_GTID_SET takes 0 as "wait forever"
        found = server.select_value("SELECT GTID_SUBSET(%s, @@GLOBAL.gtid_executed)", (position,))
        return bool(found == 1)
    waited = server.select_value("SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %s)", (position, wait_s))
    return bool(waited == 0)


class MySqlReplica:
    """One replica: lookups through `reads` (its own pool, coalesced), health set by checks."""

    def __init__(self, name: str, server: MySqlUserRepository, reads: CheckedRepository) -> None:
        self.name = name
        self.server = server
        self._reads = reads
        self._healthy = False  # until a check finds it caught up
        self.family: Family | None = None
        # The newest primary position its last check found applied (None: none known).
        self.applied_up_to: str | None = None

    @property
    def healthy(self) -> bool:
        return self._healthy

    def get(self, name: Name) -> User:
        return self._reads.get(name)

    def get_many(self, names: Sequence[Name]) -> list[Lookup]:
        return self._reads.get_many(names)

    def has_applied(self, position: ReadAfter, wait_s: float) -> bool:
        if self.family != position.family:  # not yet known, or the other kind of GTID
            return False
        # A replica never takes back a transaction it applied: what its check found applied
        # needs no query (a binlog cache's miss on a quiet table asks this at each fill).
        known = self.applied_up_to
        if known and self.family == "mariadb" and mariadb_covers(known, position.position):
            return True
        return has_applied(self.server, self.family, position.position, wait_s)

    def failed(self) -> None:
        if self._healthy:
            log.warning("replica %s failed a lookup: no reads until it is healthy again", self.name)
        self._healthy = False

    def checked(self, healthy: bool) -> None:
        self._healthy = healthy

    def close(self) -> None:
        self._reads.close()


@dataclass(frozen=True)
class _Sample:
    at: float  # time.monotonic()
    position: str


class ReplicaMonitor:
    """Every interval, in a thread of its own: the primary's position, then each replica's."""

    def __init__(
        self,
        primary: MySqlUserRepository,
        replicas: Sequence[MySqlReplica],
        *,
        interval_s: float,
        max_lag_s: float,
        observer: ReplicaObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._primary_family: Family | None = None
        self._replicas = tuple(replicas)
        self._interval_s = interval_s
        self._max_lag_s = max_lag_s
        self._observer = observer
        self._clock = clock
        # Enough samples to span the lag limit, so a replica within it has applied one.
        self._samples: deque[_Sample] = deque(maxlen=math.ceil(max_lag_s / interval_s) + 2)
        self._verdicts: dict[str, str] = {}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replica-health", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def check(self) -> None:
        self._sample_primary()
        for replica in self._replicas:
            healthy, lag_s, verdict = self._judge(replica)
            replica.checked(healthy)
            if self._observer is not None:
                self._observer.replica_checked(replica.name, healthy, lag_s)
            if self._verdicts.get(replica.name) != verdict:
                self._verdicts[replica.name] = verdict
                level = logging.INFO if healthy else logging.WARNING
                log.log(level, "replica %s %s", replica.name, verdict)

    def _sample_primary(self) -> None:
        # The primary down: replicas are judged against its last known positions.
        try:
            with deadline_in(max(MIN_CHECK_BUDGET_S, self._interval_s)):
                if self._primary_family is None:
                    self._primary_family = server_family(self._primary)
                position = current_position(self._primary, self._primary_family)
        except RepositoryUnavailable:
            return
        self._samples.append(_Sample(self._clock(), position))

    def _judge(self, replica: MySqlReplica) -> tuple[bool, float | None, str]:
        samples = list(self._samples)
        try:
            with deadline_in(max(MIN_CHECK_BUDGET_S, self._interval_s)):
                if replica.family is None:
                    replica.family = server_family(replica.server)
                family = replica.family
                if not samples:
                    return True, None, "reachable (the primary's position is not known yet)"
                for sample in reversed(samples):
                    if has_applied(replica.server, family, sample.position, 0):
                        replica.applied_up_to = sample.position
                        newest = sample is samples[-1]
                        lag_s = 0.0 if newest else self._clock() - sample.at
                        return self._verdict(lag_s)
        except RepositoryUnavailable:
            return False, None, "unreachable: out of service"
        replica.applied_up_to = None  # it has applied none of them: rebuilt, or far behind
        return self._verdict(self._clock() - samples[0].at, proven=False)

    def _verdict(self, lag_s: float, proven: bool = True) -> tuple[bool, float, str]:
        if not proven:
            return (
                False,
                lag_s,
                "has applied none of the primary's recent positions: out of service",
            )
        if lag_s <= self._max_lag_s:
            return True, lag_s, "healthy"
        return False, lag_s, f"more than {self._max_lag_s:g} s behind: out of service"

    def _run(self) -> None:
        while True:
            try:
                self.check()
            except Exception as error:  # noqa: BLE001 - the checks must outlive any one check
                log.error("replica check failed: %s", type(error).__name__)
            if self._stopped.wait(self._interval_s):
                return
