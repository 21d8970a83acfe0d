"""The tokens file: each line a token and, optionally, its caller's name."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from findsvc.entrypoints.middleware.token_file import (
    UNNAMED,
    TokenFile,
    TokenFileError,
    read_tokens,
)
from tests.support.load import wait_for


def tokens_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tokens"
    path.write_text(text)
    return path


def replace(path: Path, text: str) -> None:
    """As the kubelet updates a Secret: a new file swapped in, never a half-written one."""
    staged = path.with_suffix(".new")
    staged.write_text(text)
    os.replace(staged, path)


class TestReadingTheFile:
    def test_a_line_may_name_its_caller(self, tmp_path: Path) -> None:
        path = tokens_file(tmp_path, "# comment\nt0k3n-a checkout\n\n  t0k3n-b   billing  \n")
        assert read_tokens(path) == {b"t0k3n-a": "checkout", b"t0k3n-b": "billing"}

    def test_a_token_alone_is_the_unnamed_caller(self, tmp_path: Path) -> None:
        assert read_tokens(tokens_file(tmp_path, "t0k3n\n")) == {b"t0k3n": UNNAMED}

    def test_unnamed_tokens_may_be_many(self, tmp_path: Path) -> None:
        assert read_tokens(tokens_file(tmp_path, "a\nb\n")) == {b"a": UNNAMED, b"b": UNNAMED}

    @pytest.mark.parametrize(
        ("text", "error"),
        [
            ("a one\na two\n", "line 2: this token is on an earlier line too"),
            ("a one\nb one\n", "line 2: the name one is on line 1 too"),
            ("a one two\n", "line 1: expected TOKEN or TOKEN NAME"),
            ("a <script>\n", "line 1: a name is at most 128 letters, digits or -_.:@/"),
            ("# nothing\n\n", "the file holds no tokens"),
        ],
    )
    def test_a_wrong_file_is_refused_by_line_without_the_token(
        self, tmp_path: Path, text: str, error: str
    ) -> None:
        with pytest.raises(TokenFileError) as refused:
            read_tokens(tokens_file(tmp_path, text))
        assert str(refused.value) == error


class TestTheCallerOfAToken:
    def test_is_the_name_on_its_line(self, tmp_path: Path) -> None:
        tokens = TokenFile(tokens_file(tmp_path, "t0k3n-a checkout\nt0k3n-b\n"))
        assert tokens.caller_of(b"t0k3n-a") == "checkout"
        assert tokens.caller_of(b"t0k3n-b") == UNNAMED
        assert tokens.caller_of(b"t0k3n-c") is None
        assert tokens.names == {"checkout", UNNAMED}

    def test_a_removed_line_cuts_that_caller_off_alone(self, tmp_path: Path) -> None:
        path = tokens_file(tmp_path, "t0k3n-a checkout\nt0k3n-b billing\n")
        tokens = TokenFile(path)
        replace(path, "t0k3n-b billing\n")
        wait_for(lambda: tokens.caller_of(b"t0k3n-a") is None, 10)
        assert tokens.caller_of(b"t0k3n-b") == "billing"

    def test_a_file_that_turns_wrong_keeps_the_last_good_tokens_and_warns_once(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        path = tokens_file(tmp_path, "t0k3n-a checkout\n")
        tokens = TokenFile(path)
        replace(path, "t0k3n-a checkout\nt0k3n-a billing\n")
        wait_for(lambda: tokens.caller_of(b"t0k3n-a") == "checkout" and bool(caplog.records), 10)
        assert tokens.caller_of(b"t0k3n-a") == "checkout"
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == [
            "tokens file: line 2: this token is on an earlier line too; "
            "keeping the tokens loaded before"
        ]
