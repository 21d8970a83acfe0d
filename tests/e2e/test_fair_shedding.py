"""Fair shedding: a full server refuses the caller that holds it, and a quiet caller keeps
getting answers while another floods."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import grpc

from devkit.server import ServerProcess, StartServer
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, find
from tests.support.db import table_locked
from tests.support.held_calls import finds_waiting_on_the_lock, held_calls_env
from tests.support.load import Load, wait_for
from tests.support.metrics import FIND_USER_LABELS, metrics_port, scrape, value

FLOOD_TOKEN = secrets.token_urlsafe(24)
QUIET_TOKEN = secrets.token_urlsafe(24)
CAP = 4


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def tokens_file(folder: Path) -> str:
    path = folder / "tokens"
    path.write_text(f"{FLOOD_TOKEN} flood\n{QUIET_TOKEN} quiet\n")
    return str(path)


class Callers:
    """FindUser calls of one caller, each on a thread of its own, keeping their codes."""

    def __init__(self, server: ServerProcess, token: str) -> None:
        self._channel = grpc.insecure_channel(server.target)
        self._token = token
        self.codes: list[grpc.StatusCode] = []
        self._threads: list[threading.Thread] = []

    def start(self, count: int) -> None:
        for _ in range(count):
            thread = threading.Thread(target=self._call)
            thread.start()
            self._threads.append(thread)

    def _call(self) -> None:
        self.codes.append(find(self._channel, KRISHNA, 30, bearer(self._token)))

    def join(self) -> list[grpc.StatusCode]:
        for thread in self._threads:
            thread.join(timeout=30)
        self._channel.close()
        return self.codes


def refusals_of(server: ServerProcess, caller: str) -> float:
    samples = scrape(metrics_port(server))
    labels = {**FIND_USER_LABELS, "caller": caller, "grpc_code": "RESOURCE_EXHAUSTED"}
    return value(samples, "grpc_server_handled_total", **labels)


class TestAFlood:
    def test_a_quiet_caller_gets_every_answer_while_another_floods_past_the_cap(
        self, users_db_url: str, start_server: StartServer, tmp_path: Path
    ) -> None:
        # Closed loops, each a connection: the flood keeps 28 calls in flight against a cap of
        # 16. No more than 12 then wait in gRPC's own queue, short of its limit (16, the cap),
        # so every refusal is the lane's: the flood's, never the quiet caller's.
        cap = 16
        env = {
            "FINDSVC_DB_URL": users_db_url,
            "FINDSVC_MAX_CONCURRENCY": str(cap),
            "FINDSVC_AUTH_TOKENS_FILE": tokens_file(tmp_path),
        }
        server = start_server(env)
        with Load(server.target, [KRISHNA], callers=28, metadata=bearer(FLOOD_TOKEN)) as flood:
            wait_for(lambda: refusals_of(server, "flood") >= 100, 60)
            with server.channel() as channel:
                quiet = [find(channel, KRISHNA, 10, bearer(QUIET_TOKEN)) for _ in range(50)]
            flood_codes = flood.codes()
        assert quiet == [grpc.StatusCode.OK] * 50
        assert flood_codes[grpc.StatusCode.RESOURCE_EXHAUSTED] >= 100
        assert refusals_of(server, "quiet") == 0


class TestAFullServer:
    def test_refuses_the_caller_that_holds_it_and_answers_a_quiet_one(
        self, users_db: DatabaseUrl, start_server: StartServer, tmp_path: Path
    ) -> None:
        env = held_calls_env(
            users_db,
            FINDSVC_MAX_CONCURRENCY=str(CAP),
            # A quiet call admitted past the cap reaches the DB: a worker and a query of its own.
            FINDSVC_WORKERS=str(2 * CAP),
            FINDSVC_DB_POOL_SIZE=str(2 * CAP),
            FINDSVC_AUTH_TOKENS_FILE=tokens_file(tmp_path),
        )
        server = start_server(env)
        with table_locked(users_db):
            flood = Callers(server, FLOOD_TOKEN)
            flood.start(CAP)
            wait_for(lambda: finds_waiting_on_the_lock(users_db) == CAP, 10)
            with server.channel() as channel:
                for _ in range(10):
                    code = find(channel, KRISHNA, metadata=bearer(FLOOD_TOKEN))
                    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
            quiet = Callers(server, QUIET_TOKEN)
            quiet.start(1)
            # Admitted past the cap: it waits on the lock beside the flood's calls.
            wait_for(lambda: finds_waiting_on_the_lock(users_db) == CAP + 1, 10)
        assert quiet.join() == [grpc.StatusCode.OK]
        assert flood.join() == [grpc.StatusCode.OK] * CAP
        assert refusals_of(server, "flood") == 10
        assert refusals_of(server, "quiet") == 0

    def test_refuses_a_caller_past_its_own_cap_while_the_server_has_room(
        self, users_db: DatabaseUrl, start_server: StartServer, tmp_path: Path
    ) -> None:
        env = held_calls_env(
            users_db,
            FINDSVC_CALLER_MAX_CONCURRENCY="2",
            FINDSVC_DB_POOL_SIZE="4",
            FINDSVC_AUTH_TOKENS_FILE=tokens_file(tmp_path),
        )
        server = start_server(env)
        with table_locked(users_db):
            flood = Callers(server, FLOOD_TOKEN)
            flood.start(2)
            wait_for(lambda: finds_waiting_on_the_lock(users_db) == 2, 10)
            with server.channel() as channel:
                code = find(channel, KRISHNA, metadata=bearer(FLOOD_TOKEN))
                assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
            quiet = Callers(server, QUIET_TOKEN)
            quiet.start(1)
            wait_for(lambda: finds_waiting_on_the_lock(users_db) == 3, 10)
        assert quiet.join() == [grpc.StatusCode.OK]
        assert flood.join() == [grpc.StatusCode.OK] * 2
        assert refusals_of(server, "flood") == 1
