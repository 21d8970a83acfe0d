"""A database host name whose resolver stops answering is an outage like any other: readiness
goes NOT_SERVING within the check's budget, and the log blames the name, not the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.server import StartServer
from findsvc.config import DatabaseUrl
from tests.support.calls import (
    KRISHNA,
    KRISHNA_PHONE,
    NOT_SERVING,
    SERVING,
    find_user,
    readiness_is,
)
from tests.support.db import admin_connection
from tests.support.dns import LoopbackDns
from tests.support.load import wait_for
from tests.support.metrics import log_entries

DB_HOST = "users-db.findsvc.test"
NO_ANSWER = "did not resolve in time (DNS)"


@pytest.fixture
def dns() -> Iterator[LoopbackDns]:
    server = LoopbackDns(DB_HOST)
    yield server
    server.close()


def with_resolv_conf(resolv_conf: Path) -> tuple[str, ...]:
    """Runs the server in a mount namespace of its own whose /etc/resolv.conf is this one."""
    mount_then_exec = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    return ("unshare", "--mount", "sh", "-c", mount_then_exec, str(resolv_conf))


def kill_sessions_of(url: DatabaseUrl) -> None:
    with admin_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()",
            (url.database,),
        )
        for (session,) in cursor.fetchall():
            cursor.execute("KILL CONNECTION %s", (session,))


def messages(server: object) -> list[str]:
    return [str(entry.get("message")) for entry in log_entries(server)]  # type: ignore[arg-type]


class TestHungResolver:
    def test_readiness_follows_the_resolver_and_the_log_names_the_host_name(
        self, dns: LoopbackDns, users_db: DatabaseUrl, start_server: StartServer, tmp_path: Path
    ) -> None:
        resolv_conf = tmp_path / "resolv.conf"
        resolv_conf.write_text(dns.resolv_conf())
        url = f"mysql://{users_db.user}@{DB_HOST}:{users_db.port}/{users_db.database}"
        if users_db.password:
            url = url.replace("@", f":{users_db.password}@", 1)
        server = start_server({"FINDSVC_DB_URL": url}, wrapper=with_resolv_conf(resolv_conf))
        assert find_user(server, KRISHNA).phone == KRISHNA_PHONE

        dns.silent = True
        kill_sessions_of(users_db)  # the next check must connect, so resolve, again
        # The resolver waits 30 s before giving up: readiness must not wait for it.
        wait_for(lambda: readiness_is(server, NOT_SERVING), timeout_s=15)
        wait_for(lambda: any("did not resolve" in m for m in messages(server)), timeout_s=10)
        [line] = [m for m in messages(server) if "did not resolve" in m]
        assert line == f"database unavailable: the database host name {DB_HOST} {NO_ANSWER}"
        assert not [m for m in messages(server) if "did not answer" in m]

        dns.silent = False
        wait_for(lambda: readiness_is(server, SERVING), timeout_s=60)
        assert find_user(server, KRISHNA).phone == KRISHNA_PHONE
