"""The GTID position the binlog follower has applied, for a cache fill to read after it.

The follower reads the server's GTID state once a session, right after the binlog position it
starts from (so the state covers everything before that position), then adds each GTID event
it reads. A read replica that has applied the result holds every change the follower has told
its cache (docs/cache.md). The MySQL part merges GTID sets with mysql-replication's GtidSet;
it is not tested against a MySQL server here, and GTID tags (MySQL 8.4) are not understood:
the follower then stops following, and the cache answers nothing, rather than guess.
"""

from __future__ import annotations

import threading
from typing import Any

import pymysql
from pymysqlreplication.gtid import Gtid, GtidSet

from findsvc.domain.read_after import Family, ReadAfter

# MariaDB: per replication domain, the newest (sequence number, server id) applied.
Domains = dict[int, tuple[int, int]]


def read_gtid_state(conn: pymysql.connections.Connection[Any]) -> tuple[Family, str]:
    """The server's family and the GTIDs it has written to its binlog."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        row = cursor.fetchone()
        family: Family = "mariadb" if row and "mariadb" in str(row[0]).lower() else "mysql"
        variable = "@@gtid_binlog_pos" if family == "mariadb" else "@@GLOBAL.gtid_executed"
        cursor.execute(f"SELECT {variable}")
        row = cursor.fetchone()
    # MySQL breaks a long GTID set into lines after its commas.
    return family, "".join(str(row[0] if row else "").split())


def mariadb_domains(position: str) -> Domains:
    domains: Domains = {}
    for gtid in filter(None, position.split(",")):
        domains = merge_mariadb(domains, gtid)
    return domains


def merge_mariadb(domains: Domains, gtid: str) -> Domains:
    """`domains` with `gtid` (domain-server-seq) applied. A domain never goes back: the state
    read at the start may already hold a transaction the stream then shows again."""
    domain, server, sequence = (int(part) for part in gtid.strip().split("-"))
    known = domains.get(domain)
    if known is not None and known[0] >= sequence:
        return domains
    return {**domains, domain: (sequence, server)}


def mariadb_position(domains: Domains) -> str:
    return ",".join(f"{d}-{server}-{seq}" for d, (seq, server) in sorted(domains.items()))


def mariadb_covers(known: str, wanted: str) -> bool:
    """Whether a server that has applied `known` has applied `wanted` too."""
    have = mariadb_domains(known)
    return all(
        domain in have and have[domain][0] >= sequence
        for domain, (sequence, _) in mariadb_domains(wanted).items()
    )


class AppliedGtids:
    """Thread-safe: the follower's thread tells what it read, lookup threads ask."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._family: Family | None = None  # None: not following
        self._domains: Domains = {}
        self._mysql = GtidSet(None)
        self._position: ReadAfter | None = None  # built when asked, after a change

    def started(self, family: Family, state: str) -> None:
        """Raises ValueError when a MySQL state cannot be parsed."""
        mysql = GtidSet(state or None) if family == "mysql" else GtidSet(None)
        domains = mariadb_domains(state) if family == "mariadb" else {}
        with self._lock:
            self._family, self._domains, self._mysql = family, domains, mysql
            self._position = None

    def lost(self) -> None:
        with self._lock:
            self._family, self._domains, self._mysql = None, {}, GtidSet(None)
            self._position = None

    def applied(self, gtid: str) -> None:
        """Raises ValueError when a MySQL GTID cannot be parsed."""
        with self._lock:
            if self._family == "mariadb":
                self._domains = merge_mariadb(self._domains, gtid)
            elif self._family == "mysql":
                one = Gtid(gtid)
                if one not in self._mysql:  # GtidSet refuses a transaction it already has
                    self._mysql = self._mysql + one
            self._position = None

    def position(self) -> ReadAfter | None:
        """What a store must have applied; None when nothing is needed (not following, or no
        GTID written yet)."""
        with self._lock:
            if self._position is None and self._family is not None:
                text = (
                    mariadb_position(self._domains)
                    if self._family == "mariadb"
                    else str(self._mysql)
                )
                self._position = ReadAfter(text, self._family) if text else None
            return self._position
