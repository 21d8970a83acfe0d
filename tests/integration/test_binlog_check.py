"""What `binlog_missing` says of a MariaDB whose binlog the follower cannot use, one setting
at a time: the line an operator reads when FINDSVC_CACHE_MODE=binlog refuses to start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from findsvc.adapters.mysql.binlog_check import binlog_missing
from findsvc.config import DatabaseUrl
from tests.support.db import admin_connection


@pytest.fixture
def conn(binlog_mysql_url: DatabaseUrl) -> Iterator[Any]:
    with admin_connection(binlog_mysql_url) as connection:
        yield connection


@pytest.fixture
def global_setting(conn: Any) -> Iterator[Any]:
    """Sets a global variable for the test; the server's own value comes back after it."""
    saved: list[tuple[str, str]] = []

    def set_global(variable: str, value: str) -> None:
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT @@GLOBAL.{variable}")
            saved.append((variable, str(cursor.fetchone()[0])))
            cursor.execute(f"SET GLOBAL {variable} = %s", (value,))

    yield set_global
    with conn.cursor() as cursor:
        for variable, value in reversed(saved):
            cursor.execute(f"SET GLOBAL {variable} = %s", (value,))


class TestWhatIsMissing:
    def test_nothing_on_a_row_based_binlog_with_full_metadata(self, conn: Any) -> None:
        assert binlog_missing(conn) is None

    @pytest.mark.parametrize(
        ("variable", "value", "line"),
        [
            (
                "binlog_format",
                "STATEMENT",
                "binlog_format is STATEMENT, not ROW: SET GLOBAL binlog_format=ROW",
            ),
            (
                "binlog_row_image",
                "MINIMAL",
                "binlog_row_image is MINIMAL, not FULL: SET GLOBAL binlog_row_image=FULL",
            ),
            (
                "binlog_row_metadata",
                "MINIMAL",
                "binlog_row_metadata is MINIMAL, not FULL: SET GLOBAL binlog_row_metadata=FULL",
            ),
        ],
    )
    def test_a_setting_that_is_not_what_the_follower_needs_is_named_with_its_fix(
        self, conn: Any, global_setting: Any, variable: str, value: str, line: str
    ) -> None:
        global_setting(variable, value)
        assert binlog_missing(conn) == f"{line} (see docs/cache.md)"
