"""Follows ums_users in the server's row-based binlog and tells the cache what changed.

One follower per process: each process has a cache of its own, and a cache is exact only for
the changes its own follower told it. (One per pod, shared with the children, would need the
cache shared too.) It reads from FINDSVC_DB_URL, the primary: a replica's binlog would add the
replica's own lag to ours, and a position read on one server says nothing about another's.

Two threads: the follower reads the dump (mysql-replication) and applies each row event; the
prober (binlog_prober.py) reads the server's position, which tells both the lag and when a
cached NOT_FOUND may be served (binlog_position.py). A cut feed, an error, silence past the
heartbeats or a lag past the max end the session: the cache is told to forget everything,
answers nothing until the follower is back, and the follower reconnects with backoff from the
server's current position.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import (
    GtidEvent,
    HeartbeatLogEvent,
    MariadbGtidEvent,
    QueryEvent,
    RotateEvent,
    XidEvent,
)

from findsvc.adapters.mysql.binlog_check import ServerNotAsked, binlog_missing_at
from findsvc.adapters.mysql.binlog_dump import Dump, FeedCut
from findsvc.adapters.mysql.binlog_position import BinlogPosition, CatchUp, read_position
from findsvc.adapters.mysql.binlog_prober import Prober
from findsvc.adapters.mysql.binlog_rows import ROW_EVENTS, TABLE, changed_names, may_change_rows
from findsvc.adapters.mysql.errors import describe
from findsvc.adapters.mysql.gtid_positions import AppliedGtids, read_gtid_state
from findsvc.domain.ports import TableChanges
from findsvc.domain.read_after import Family, ReadAfter

log = logging.getLogger(__name__)
# Its warnings span lines, and the reconnects they announce are refused (binlog_dump.py): the
# follower logs the cut itself, once.
logging.getLogger("pymysqlreplication").setLevel(logging.ERROR)

# Every transaction ends in an Xid (InnoDB) or a Query event (DDL, non-transactional tables),
# so the applied position moves past the other tables' changes too; idle, heartbeats move it.
EVENTS = [*ROW_EVENTS, XidEvent, QueryEvent, RotateEvent, HeartbeatLogEvent]
GTID_EVENTS = (GtidEvent, MariadbGtidEvent)
MIN_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


class FollowerObserver(Protocol):
    def follower_state(self, state: str) -> None: ...

    def follower_lag(self, seconds: float) -> None: ...

    def binlog_events_applied(self, count: int) -> None: ...


class BinlogFollower:
    """Implements the Freshness port for the cache it tells its changes to."""

    def __init__(
        self,
        connect_args: dict[str, Any],
        password: Callable[[], bytes],
        max_lag_s: float,
        observer: FollowerObserver | None = None,
        *,
        track_gtids: bool = False,
    ) -> None:
        """track_gtids: keep the GTID position applied, for fills read from replicas (a
        query at each session start, and each transaction's GTID event read)."""
        self._unchecked: Callable[[str], None] | None = None
        self.connect_args = connect_args  # host, port, user, database, TLS, timeouts
        self.password = password
        self._changes: TableChanges | None = None
        self._max_lag_s = max_lag_s
        self._heartbeat_s = max_lag_s / 2
        self._observer = observer
        self._catch_up = CatchUp()
        self._track_gtids = track_gtids
        self._gtids = AppliedGtids()
        self._stop = threading.Event()
        self._dump = Dump(self._connect)
        prober = Prober(
            lambda: self._connect(**connect_args),
            self._catch_up,
            max_lag_s,
            behind=self._behind,
            observer=observer,
        )
        self._threads = [
            threading.Thread(target=self._follow, name="binlog-follower", daemon=True),
            threading.Thread(
                target=prober.run, args=(self._stop,), name="binlog-prober", daemon=True
            ),
        ]
        self._last_failure: str | None = None

    def check_first(self, unusable: Callable[[str], None]) -> None:
        """Before start, when the binlog could not be checked yet (auto, the database away):
        checked at the first connect; if it cannot be followed, `unusable(what is missing)`
        is told and the follower stops for good, its cache answering nothing."""
        self._unchecked = unusable

    def start(self, changes: TableChanges) -> None:
        """Follows, telling `changes` (the cache that asks this follower how current it is)."""
        self._changes = changes
        self._tell_state("connecting")
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self._stop.set()
        self._dump.cut()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=2)

    # Freshness
    def is_current(self) -> bool:
        return self._catch_up.following() and self._catch_up.lag_s() <= self._max_lag_s

    def caught_up_since(self, moment: float, timeout_s: float) -> bool:
        # Past the max lag the cache would not answer anyway: the call asks the database.
        return self._catch_up.wait_covered(moment, min(timeout_s, self._max_lag_s))

    def applied_position(self) -> ReadAfter | None:
        return self._gtids.position()

    def _told(self) -> TableChanges:
        assert self._changes is not None, "started before it follows"
        return self._changes

    def _connect(self, **settings: Any) -> pymysql.connections.Connection[Any]:
        # The password is asked for at each connect: a rotated Secret needs no restart.
        return pymysql.connect(**{**settings, "password": self.password()})

    def _follow(self) -> None:
        backoff_s = MIN_BACKOFF_S
        while not self._stop.is_set():
            try:
                self._follow_once()
            except Exception as error:  # noqa: BLE001 - any failure ends the session alike
                # Never reached yet (auto, the database away at start): why is the database's
                # own log line, which readiness writes; said here too, it would be said twice.
                if not self._stop.is_set() and self._unchecked is None:
                    self._log_failure(_describe(error))
            else:
                backoff_s = MIN_BACKOFF_S
            self._catch_up.lost()  # first: no lookup is answered from the cache from now on
            self._gtids.lost()
            self._told().forget_all()
            if self._stop.is_set():
                return
            self._tell_state("reconnecting")
            if self._stop.wait(backoff_s):
                return
            backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)

    def _follow_once(self) -> None:
        if self._unchecked is not None:
            try:
                missing = binlog_missing_at(self.connect_args, self.password())
            except ServerNotAsked as error:
                raise FeedCut(str(error)) from None
            if missing is not None:
                self._unchecked(missing)
                self._tell_state("off")
                self._stop.set()
                return
            self._unchecked = None
        with self._connect(**self.connect_args) as conn:
            moment = self._catch_up.clock()
            position = read_position(conn)
            # After the position: the state then covers every transaction before it.
            gtids = read_gtid_state(conn) if self._track_gtids else None
        if position is None:
            raise FeedCut("the server writes no binlog")
        events = EVENTS if gtids is None else [*EVENTS, *GTID_EVENTS]
        reader = self._dump.reader(self.connect_args, position, self._heartbeat_s, events)
        try:
            self._apply(reader, moment, position, gtids)
        finally:
            reader.close()

    def _apply(
        self,
        reader: BinLogStreamReader,
        moment: float,
        start: BinlogPosition,
        gtids: tuple[Family, str] | None,
    ) -> None:
        started = False
        while not self._stop.is_set():
            event = reader.fetchone()
            if event is None:
                raise FeedCut("the server ended the binlog dump")
            if not started:  # the dump is open: changes after `start` will all come
                started = True
                if gtids is not None:  # before the cache is current: no fill reads unbounded
                    self._track(self._gtids.started, *gtids)
                self._catch_up.started(moment, start)
                self._tell_state("following")
                self._last_failure = None
                log.info("binlog cache: following %s from %s:%d", TABLE, start.file, start.offset)
            if isinstance(event, ROW_EVENTS):
                self._apply_rows(event)
            elif isinstance(event, GTID_EVENTS):
                self._track(self._gtids.applied, event.gtid)
            elif isinstance(event, QueryEvent) and may_change_rows(event):
                self._told().forget_all()  # TRUNCATE, DROP, RENAME...: no row events
            self._catch_up.applied(BinlogPosition.of(reader.log_file, reader.log_pos))

    def _apply_rows(self, event: Any) -> None:
        names = changed_names(event)
        if names is None:
            self._told().forget_all()
            return
        self._told().names_changed(names)
        if self._observer is not None:
            self._observer.binlog_events_applied(1)

    def _track(self, tell: Callable[..., None], *gtids: str) -> None:
        try:
            tell(*gtids)
        except ValueError:  # a GTID form not understood (MySQL tags): no position to give
            raise FeedCut("the server's GTIDs could not be read") from None

    def _behind(self, description: str) -> None:
        self._log_failure(description)
        self._dump.cut()

    def _tell_state(self, state: str) -> None:
        if self._observer is not None:
            self._observer.follower_state(state)

    def _log_failure(self, description: str) -> None:
        # Once per kind of failure until the feed is back: retries must not flood the log.
        if description != self._last_failure:
            self._last_failure = description
            log.warning(
                "binlog cache: feed lost (%s); lookups go to the database until it is back",
                description,
            )


def _describe(error: BaseException) -> str:
    return str(error) if isinstance(error, FeedCut) else describe(error)
