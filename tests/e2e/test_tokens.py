"""Bearer-token auth end to end, on the server's side: what it accepts, and how it reloads its
tokens file."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import grpc
import pytest

from devkit.server import ServerProcess, StartServer
from findsvc.entrypoints.middleware.token_auth import RELOAD_CHECK_S
from tests.support.calls import (
    KRISHNA,
    SERVING,
    find,
    health_status,
)
from tests.support.load import wait_for
from tests.support.metrics import log_entries


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text(f"# one token a line\n{secrets.token_urlsafe(24)}\n\n")
    return path


@pytest.fixture
def token_server(users_db_url: str, tokens_file: Path, start_server: StartServer) -> ServerProcess:
    # Healthy without a token: health stays open.
    return start_server(
        {"FINDSVC_DB_URL": users_db_url, "FINDSVC_AUTH_TOKENS_FILE": str(tokens_file)}
    )


def find_with_metadata(
    server: ServerProcess, metadata: tuple[tuple[str, str], ...]
) -> grpc.StatusCode:
    with server.channel() as channel:
        return find(channel, KRISHNA, metadata=metadata)


def the_token(tokens_file: Path) -> str:
    return next(line for line in tokens_file.read_text().splitlines() if line[:1] not in "# ")


def reloads(server: ServerProcess) -> list[dict[str, object]]:
    return [e for e in log_entries(server) if e.get("message") == "tokens reloaded"]


class TestTokens:
    def test_a_call_without_a_token_is_unauthenticated(self, token_server: ServerProcess) -> None:
        assert find_with_metadata(token_server, ()) == grpc.StatusCode.UNAUTHENTICATED

    def test_a_wrong_token_is_unauthenticated(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        token = the_token(tokens_file)
        last = "y" if token.endswith("x") else "x"  # 1 in 64 tokens ends with x already
        wrong = (("authorization", "Bearer " + token[:-1] + last),)
        assert find_with_metadata(token_server, wrong) == grpc.StatusCode.UNAUTHENTICATED
        not_bearer = (("authorization", "Basic " + the_token(tokens_file)),)
        assert find_with_metadata(token_server, not_bearer) == grpc.StatusCode.UNAUTHENTICATED

    def test_a_listed_token_finds_users(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        good = (("authorization", "Bearer " + the_token(tokens_file)),)
        assert find_with_metadata(token_server, good) == grpc.StatusCode.OK

    def test_a_rotated_tokens_file_takes_effect_without_a_restart(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        old, new = the_token(tokens_file), secrets.token_urlsafe(24)
        staged = tokens_file.with_suffix(".new")
        staged.write_text(f"# rotated\n{new}\n")
        os.replace(staged, tokens_file)
        wait_for(
            lambda: (
                find_with_metadata(token_server, (("authorization", f"Bearer {new}"),))
                == grpc.StatusCode.OK
            ),
            5,
        )
        refused = find_with_metadata(token_server, (("authorization", f"Bearer {old}"),))
        assert refused == grpc.StatusCode.UNAUTHENTICATED

    def test_an_indented_comment_line_is_not_a_token(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        note = "# an indented note"
        good = (("authorization", f"Bearer {the_token(tokens_file)}"),)
        reloads_before = len(reloads(token_server))
        staged = tokens_file.with_suffix(".new")
        staged.write_text(f"{the_token(tokens_file)}\n  {note}\n")
        os.replace(staged, tokens_file)
        # A call is what looks for a change: call until the new file was read.
        wait_for(
            lambda: (
                find_with_metadata(token_server, good) == grpc.StatusCode.OK
                and len(reloads(token_server)) > reloads_before
            ),
            RELOAD_CHECK_S * 20,
        )
        assert reloads(token_server)[-1]["tokens"] == 1  # the note is not a second token
        assert (
            find_with_metadata(token_server, (("authorization", f"Bearer {note}"),))
            == grpc.StatusCode.UNAUTHENTICATED
        )

    def test_an_emptied_tokens_file_keeps_the_last_good_tokens_and_warns_once(
        self, token_server: ServerProcess, tokens_file: Path
    ) -> None:
        good = (("authorization", "Bearer " + the_token(tokens_file)),)
        tokens_file.write_text("")  # truncated in place, as a failed write leaves it
        deadline = time.monotonic() + RELOAD_CHECK_S * 4
        while time.monotonic() < deadline:  # several reload checks
            assert find_with_metadata(token_server, good) == grpc.StatusCode.OK
            time.sleep(0.2)
        warnings = [
            e for e in log_entries(token_server) if "holds no tokens" in e.get("message", "")
        ]
        assert len(warnings) == 1

    def test_health_needs_no_token(self, token_server: ServerProcess) -> None:
        with token_server.channel() as channel:
            assert health_status(channel, "liveness") == SERVING

    def test_a_tokens_file_without_tokens_is_one_line_and_exit_code_2(
        self, users_db_url: str, tmp_path: Path, start_server: StartServer
    ) -> None:
        empty = tmp_path / "empty"
        empty.write_text("# nothing yet\n")
        server = start_server(
            {"FINDSVC_DB_URL": users_db_url, "FINDSVC_AUTH_TOKENS_FILE": str(empty)},
            wait=False,
        )
        assert server.process.wait(timeout=30) == 2
        assert len(server.logs.strip().splitlines()) == 1
