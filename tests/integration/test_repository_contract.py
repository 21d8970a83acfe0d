"""One contract, every adapter: MySQL (a real MariaDB) and the embedded SQLite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.adapters.sqlite import SqliteUserRepository
from findsvc.config import DatabaseUrl
from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from findsvc.domain.ports import CheckedRepository as Repository
from findsvc.domain.ports import Lookup
from tests.support.db import admin_connection, create_database, insert_user

SINCE = datetime(2018, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)


# Adds one row the way the AddService would, behind the adapter's back. A str `since` is
# stored as that text: a value no AddService should write, but corrupt data does happen.
AddRow = Callable[[str, int, datetime | str | None], None]
Store = tuple[Repository, AddRow]


@pytest.fixture(params=["mysql", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "mysql":
        url: DatabaseUrl = request.getfixturevalue("mysql_url")
        create_database(url)
        mysql = MySqlUserRepository(url, url.password, 2, 2.0, 5.0)
        yield mysql, lambda name, phone, since: _add_mysql(url, name, phone, since)
        mysql.close()
    else:
        sqlite = SqliteUserRepository(tmp_path / "users.db")
        sqlite.create_schema()
        yield sqlite, lambda name, phone, since: _add_sqlite(sqlite, name, phone, since)
        sqlite.close()


def _add_mysql(url: DatabaseUrl, name: str, phone: int, since: datetime | str | None) -> None:
    if isinstance(since, str):
        with admin_connection(url, url.database) as conn, conn.cursor() as cursor:
            # Without the strict modes, MySQL stores text it cannot read as the zero date.
            cursor.execute("SET SESSION sql_mode = ''")
            cursor.execute(
                "INSERT INTO ums_users (name, phone, since) VALUES (%s, %s, %s)",
                (name, phone, since),
            )
    else:
        insert_user(url, name, phone, since)


def _add_sqlite(
    repo: SqliteUserRepository, name: str, phone: int, since: datetime | str | None
) -> None:
    if isinstance(since, datetime):
        repo.add_all([(name, phone, since)])
    else:
        repo._connection().execute(
            "INSERT INTO ums_users (name, phone, since) VALUES (?, ?, ?)", (name, phone, since)
        )


def holding(store: Store, *rows: tuple[str, int, datetime | str | None]) -> Repository:
    """The repository, once these rows are added."""
    repo, add = store
    for row in rows:
        add(*row)
    return repo


class TestRepositoryContract:
    def test_a_stored_user_is_found_with_all_its_fields(self, store: Store) -> None:
        repo = holding(store, ("KrishnaMohan", 9731423166, SINCE))
        user = repo.get(Name("KrishnaMohan"))
        assert user.name.value == "KrishnaMohan"
        assert user.phone.value == 9731423166
        assert user.since == SINCE

    def test_unknown_name_is_not_found(self, store: Store) -> None:
        repo = holding(store, ("KrishnaMohan", 9731423166, SINCE))
        with pytest.raises(UserNotFound):
            repo.get(Name("GraceHopper"))

    def test_a_user_committed_just_now_is_found_by_the_next_call(self, store: Store) -> None:
        repo, add = store
        with pytest.raises(UserNotFound):
            repo.get(Name("GraceHopper"))
        add("GraceHopper", 9900112233, SINCE)
        assert repo.get(Name("GraceHopper")).phone.value == 9900112233

    def test_the_collation_decides_equality(self, store: Store) -> None:
        repo = holding(store, ("KrishnaMohan", 9731423166, SINCE))
        assert repo.get(Name("krishnamohan")).name.value == "KrishnaMohan"

    def test_since_is_returned_in_utc(self, store: Store) -> None:
        repo = holding(store, ("KrishnaMohan", 9731423166, SINCE))
        assert repo.get(Name("KrishnaMohan")).since.utcoffset() == UTC.utcoffset(None)

    def test_a_row_with_an_invalid_phone_is_corrupt(self, store: Store) -> None:
        repo = holding(store, ("BrokenPhone1", 12345, SINCE))
        with pytest.raises(CorruptUserRecord) as raised:
            repo.get(Name("BrokenPhone1"))
        assert "12345" not in str(raised.value)

    @pytest.mark.parametrize("since", [None, "garbage"], ids=["no since", "not a date"])
    def test_a_row_whose_since_is_missing_or_not_a_date_is_corrupt(
        self, store: Store, since: str | None
    ) -> None:
        repo = holding(store, ("OddSince", 9731423166, since))
        with pytest.raises(CorruptUserRecord):
            repo.get(Name("OddSince"))

    def test_a_corrupt_row_does_not_spoil_the_next_lookup(self, store: Store) -> None:
        repo = holding(store, ("BrokenPhone1", 12345, SINCE), ("KrishnaMohan", 9731423166, SINCE))
        with pytest.raises(CorruptUserRecord):
            repo.get(Name("BrokenPhone1"))
        assert repo.get(Name("KrishnaMohan")).phone.value == 9731423166

    def test_ping_succeeds_on_a_reachable_store(self, store: Store) -> None:
        repo, _ = store
        repo.ping()


def names(*values: str) -> list[Name]:
    return [Name(value) for value in values]


def outcome(lookup: Lookup) -> str:
    """A lookup in one word: the stored name, or what went wrong."""
    return lookup.name.value if isinstance(lookup, User) else type(lookup).__name__


class TestBatchContract:
    def test_lookups_come_in_request_order_with_unknown_names_not_found(self, store: Store) -> None:
        repo = holding(
            store, ("KrishnaMohan", 9731423166, SINCE), ("GraceHopper", 9900112233, SINCE)
        )
        found = repo.get_many(names("GraceHopper", "NobodyAtAll", "KrishnaMohan"))
        assert [outcome(lookup) for lookup in found] == [
            "GraceHopper",
            "UserNotFound",
            "KrishnaMohan",
        ]
        grace = found[0]
        assert isinstance(grace, User)
        assert grace.phone.value == 9900112233
        assert grace.since == SINCE

    def test_names_equal_under_the_collation_all_find_the_one_user(self, store: Store) -> None:
        repo = holding(store, ("KrishnaMohan", 9731423166, SINCE))
        found = repo.get_many(names("krishnamohan", "KRISHNAMOHAN", "KrishnaMohan", "krishnamohan"))
        assert [outcome(lookup) for lookup in found] == ["KrishnaMohan"] * 4

    def test_a_corrupt_row_spoils_only_its_own_lookup(self, store: Store) -> None:
        repo = holding(store, ("BrokenPhone1", 12345, SINCE), ("KrishnaMohan", 9731423166, SINCE))
        found = repo.get_many(names("BrokenPhone1", "KrishnaMohan"))
        assert [outcome(lookup) for lookup in found] == ["CorruptUserRecord", "KrishnaMohan"]
        assert "12345" not in str(found[0])

    def test_a_row_whose_since_is_not_a_date_spoils_only_its_own_lookup(self, store: Store) -> None:
        repo = holding(
            store, ("GarbledSince", 9731423166, "garbage"), ("KrishnaMohan", 9731423166, SINCE)
        )
        found = repo.get_many(names("GarbledSince", "KrishnaMohan"))
        assert [outcome(lookup) for lookup in found] == ["CorruptUserRecord", "KrishnaMohan"]

    def test_a_user_committed_just_now_is_found_by_the_next_batch(self, store: Store) -> None:
        repo, add = store
        assert outcome(repo.get_many(names("GraceHopper"))[0]) == "UserNotFound"
        add("GraceHopper", 9900112233, SINCE)
        assert outcome(repo.get_many(names("GraceHopper"))[0]) == "GraceHopper"

    def test_no_names_is_no_lookups(self, store: Store) -> None:
        repo, _ = store
        assert repo.get_many([]) == []

    def test_a_hundred_names_are_looked_up_at_once(self, store: Store) -> None:
        repo, add = store
        for i in range(0, 100, 2):
            add(f"BatchUser{i:03}", 9000000000 + i, SINCE)
        found = repo.get_many(names(*(f"batchuser{i:03}" for i in range(100))))
        assert [outcome(lookup) for lookup in found] == [
            f"BatchUser{i:03}" if i % 2 == 0 else "UserNotFound" for i in range(100)
        ]

    @pytest.mark.parametrize(
        "stored", ["ReneDescartes", "Rene Descartes", "StraßeUser", "PaddedUser  "]
    )
    def test_a_batch_and_a_single_lookup_agree_on_every_name(
        self, store: Store, stored: str
    ) -> None:
        repo = holding(store, (stored, 9731423166, SINCE))
        # Trailing spaces: MySQL's PAD SPACE collations ignore them, SQLite's NOCASE does not.
        raw = [stored, stored.lower(), stored.upper(), "RenéDescartes", "StrasseUser"]
        asked = [Name.parse(value) for value in raw]
        batch = [outcome(lookup) for lookup in repo.get_many(asked)]
        single = []
        for name in asked:
            try:
                single.append(outcome(repo.get(name)))
            except UserNotFound as error:
                single.append(outcome(error))
        assert batch == single
