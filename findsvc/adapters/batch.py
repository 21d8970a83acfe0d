"""Many names in one query, with the database's collation deciding which row answers which name.

Matching rows back to names in Python would need the collation's rules (case, accents, trailing
spaces under PAD SPACE). Instead each row carries the positions of the names it equals, as the
database compares them: `CASE WHEN name = ? THEN '0,' ELSE '' END`, concatenated over the names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Literal

from findsvc.adapters.rows import duplicate, user_from_row
from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.ports import Lookup

Dialect = Literal["mysql", "sqlite"]


@lru_cache(maxsize=256)
def find_many_sql(count: int, dialect: Dialect) -> str:
    """The query for `count` distinct names; its parameters are the names, twice over.

    Only placeholders and the positions 0..count-1 (integers this code makes) enter the text.
    """
    mark = "%s" if dialect == "mysql" else "?"
    matches = [f"CASE WHEN name = {mark} THEN '{i},' ELSE '' END" for i in range(count)]
    # MySQL reads || as OR; SQLite has no CONCAT before 3.44.
    positions = f"CONCAT({', '.join(matches)})" if dialect == "mysql" else " || ".join(matches)
    names = ", ".join([mark] * count)
    return (
        f"SELECT name, phone, since, {positions} "  # noqa: S608 - see the docstring
        f"FROM ums_users WHERE name IN ({names})"
    )


def distinct_values(names: Sequence[Name]) -> list[str]:
    """Equal strings are equal under any collation: each is asked for once."""
    return list(dict.fromkeys(name.value for name in names))


def lookups_from_rows(
    names: Sequence[Name],
    distinct: Sequence[str],
    rows: Sequence[Sequence[Any]],
    decode_since: Callable[[Any], Any] = lambda since: since,
) -> list[Lookup]:
    """One Lookup per name in `names`; `distinct` are the values the query was given, in order."""
    by_position: dict[int, User | CorruptUserRecord] = {}
    for stored_name, phone, since, positions in rows:
        try:
            found: User | CorruptUserRecord = user_from_row(stored_name, phone, decode_since(since))
        except CorruptUserRecord as corrupt:
            found = corrupt
        for position in map(int, positions.split(",")[:-1]):
            # A second row for a name: a table without the unique key (see rows.duplicate).
            by_position[position] = duplicate(stored_name) if position in by_position else found
    index = {value: i for i, value in enumerate(distinct)}
    lookups: list[Lookup] = []
    for name in names:
        hit = by_position.get(index[name.value])
        lookups.append(UserNotFound(name) if hit is None else hit)
    return lookups


def find_many(
    names: Sequence[Name],
    dialect: Dialect,
    fetch_all: Callable[[str, tuple[str, ...]], Sequence[Sequence[Any]]],
    decode_since: Callable[[Any], Any] = lambda since: since,
) -> list[Lookup]:
    """An adapter's get_many: one query for the distinct names, run by `fetch_all`."""
    distinct = distinct_values(names)
    if not distinct:
        return []
    rows = fetch_all(find_many_sql(len(distinct), dialect), (*distinct, *distinct))
    return lookups_from_rows(names, distinct, rows, decode_since)
