"""The binlog cache's eviction fold against the real MariaDB's collations: whenever the
database calls two names equal, their folds are equal (so a change to one evicts the other).
The fold may be coarser than a collation, never finer."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from findsvc.config import DatabaseUrl
from findsvc.policies.name_fold import fold
from tests.support.db import admin_connection

# The table's own (MariaDB's utf8mb4 default, as `findsvc db init` and Hibernate create it),
# and the Unicode ones an AddService may choose.
COLLATIONS = (
    "utf8mb4_general_ci",
    "utf8mb4_unicode_ci",
    "utf8mb4_unicode_520_ci",
    "utf8mb4_uca1400_ai_ci",
)
# Latin, Greek, Cyrillic, their extended and compatibility forms, punctuation, letterlike and
# number forms, enclosed alphanumerics, CJK symbols and fullwidth forms.
BLOCKS = (
    (0x20, 0x250),
    (0x370, 0x460),
    (0x1E00, 0x2070),
    (0x2100, 0x2190),
    (0x2460, 0x2500),
    (0x3000, 0x3010),
    (0xFB00, 0xFB07),
    (0xFF01, 0xFF5F),
)
CHARACTERS = [
    chr(cp)
    for start, end in BLOCKS
    for cp in range(start, end)
    if unicodedata.category(chr(cp)) not in ("Cc", "Cs", "Cn")
]
# Families of spellings some collation may call equal. Two names are drawn from the same
# families in the same order, so they are often equal; the database alone says whether.
FAMILIES = (
    ("s", "S", "ss", "SS", "ß", "ẞ", "\u017f"),
    ("a", "A", "á", "Á", "ä", "æ", "ae"),
    ("i", "I", "í", "İ", "\u0131"),
    ("l", "L", "ł", "ŀ", "l\u00b7"),
    ("1", "¹", "①", "⓵", "\uff11"),
    ("", " ", "  ", "\u200c", "\u00ad"),
)


@pytest.fixture(scope="module")
def cursor(binlog_mysql_url: DatabaseUrl) -> Iterator[Any]:
    with admin_connection(binlog_mysql_url) as conn, conn.cursor() as cur:
        cur.execute("SET NAMES utf8mb4")
        yield cur


def _equal(cursor: Any, a: str, b: str, collation: str) -> bool:
    cursor.execute(
        f"SELECT CONVERT(%s USING utf8mb4) COLLATE {collation}"
        f" = CONVERT(%s USING utf8mb4) COLLATE {collation}",
        (a, b),
    )
    return bool(cursor.fetchone()[0])


class TestEveryCharacterPair:
    @pytest.mark.parametrize("collation", COLLATIONS)
    def test_characters_the_collation_calls_equal_fold_alike(
        self, cursor: Any, collation: str
    ) -> None:
        table = f"fold_{collation}"
        cursor.execute("CREATE DATABASE IF NOT EXISTS findsvc_fold_test")
        cursor.execute(f"DROP TABLE IF EXISTS findsvc_fold_test.{table}")
        cursor.execute(
            f"CREATE TABLE findsvc_fold_test.{table} (cp INT PRIMARY KEY,"
            f" name VARCHAR(8) CHARACTER SET utf8mb4 COLLATE {collation})"
        )
        # Between letters, so that neither end's spaces nor an empty string get in the way.
        cursor.executemany(
            f"INSERT INTO findsvc_fold_test.{table} VALUES (%s, %s)",
            [(ord(ch), f"a{ch}b") for ch in CHARACTERS],
        )
        cursor.execute(
            f"SELECT x.name, y.name FROM findsvc_fold_test.{table} x"
            f" JOIN findsvc_fold_test.{table} y ON x.name = y.name AND x.cp < y.cp"
        )
        pairs = cursor.fetchall()
        assert len(pairs) > 1000  # the collation does fold: a, á, A, Á...
        assert [(a, b) for a, b in pairs if fold(a) != fold(b)] == []
        cursor.execute("DROP DATABASE findsvc_fold_test")


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """Two names spelled from the same families, member by member."""
    families = draw(st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=5))
    return tuple(  # type: ignore[return-value]
        "".join(draw(st.sampled_from(family)) for family in families) for _ in range(2)
    )


class TestNames:
    @pytest.mark.parametrize("collation", COLLATIONS)
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(pair=spellings())
    def test_names_the_collation_calls_equal_fold_alike(
        self, cursor: Any, collation: str, pair: tuple[str, str]
    ) -> None:
        a, b = pair
        if _equal(cursor, a, b, collation):
            assert fold(a) == fold(b)
