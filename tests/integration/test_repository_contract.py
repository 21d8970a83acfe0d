"""One contract, every adapter: MySQL (a real MariaDB) and the embedded SQLite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pytest

from findsvc.adapters.mysql import MySqlUserRepository
from findsvc.adapters.sqlite import SqliteUserRepository
from findsvc.config import DatabaseUrl
from findsvc.domain.model import CorruptUserRecord, Name, User, UserNotFound
from tests.support.db import create_database, insert_user

SINCE = datetime(2018, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)


class Repository(Protocol):
    def get(self, name: Name) -> User: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


# Adds one row the way the AddService would, behind the adapter's back.
AddRow = Callable[[str, int, datetime | None], None]


@pytest.fixture(params=["mysql", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Repository, AddRow]]:
    if request.param == "mysql":
        url: DatabaseUrl = request.getfixturevalue("mysql_url")
        create_database(url)
        mysql = MySqlUserRepository(url, url.password, 2, 2.0, 5.0)
        yield mysql, lambda name, phone, since: insert_user(url, name, phone, since)
        mysql.close()
    else:
        sqlite = SqliteUserRepository(tmp_path / "users.db")
        sqlite.create_schema()
        yield sqlite, lambda name, phone, since: _add_sqlite(sqlite, name, phone, since)
        sqlite.close()


def _add_sqlite(repo: SqliteUserRepository, name: str, phone: int, since: datetime | None) -> None:
    if since is None:
        repo._connection().execute(  # the AddService would never; corrupt data does happen
            "INSERT INTO ums_users (name, phone, since) VALUES (?, ?, NULL)", (name, phone)
        )
    else:
        repo.add_all([(name, phone, since)])


class TestRepositoryContract:
    def test_a_stored_user_is_found_with_all_its_fields(
        self, store: tuple[Repository, AddRow]
    ) -> None:
        repo, add = store
        add("KrishnaMohan", 9731423166, SINCE)
        user = repo.get(Name("KrishnaMohan"))
        assert user.name.value == "KrishnaMohan"
        assert user.phone.value == 9731423166
        assert user.since == SINCE

    def test_unknown_name_is_not_found(self, store: tuple[Repository, AddRow]) -> None:
        repo, add = store
        add("KrishnaMohan", 9731423166, SINCE)
        with pytest.raises(UserNotFound):
            repo.get(Name("GraceHopper"))

    def test_a_user_committed_just_now_is_found_by_the_next_call(
        self, store: tuple[Repository, AddRow]
    ) -> None:
        repo, add = store
        with pytest.raises(UserNotFound):
            repo.get(Name("GraceHopper"))
        add("GraceHopper", 9900112233, SINCE)
        assert repo.get(Name("GraceHopper")).phone.value == 9900112233

    def test_the_collation_decides_equality(self, store: tuple[Repository, AddRow]) -> None:
        repo, add = store
        add("KrishnaMohan", 9731423166, SINCE)
        assert repo.get(Name("krishnamohan")).name.value == "KrishnaMohan"

    def test_since_is_returned_in_utc(self, store: tuple[Repository, AddRow]) -> None:
        repo, add = store
        add("KrishnaMohan", 9731423166, SINCE)
        assert repo.get(Name("KrishnaMohan")).since.utcoffset() == UTC.utcoffset(None)

    def test_a_row_with_an_invalid_phone_is_corrupt(self, store: tuple[Repository, AddRow]) -> None:
        repo, add = store
        add("BrokenPhone1", 12345, SINCE)
        with pytest.raises(CorruptUserRecord) as raised:
            repo.get(Name("BrokenPhone1"))
        assert "12345" not in str(raised.value)

    def test_a_row_without_since_is_corrupt(self, store: tuple[Repository, AddRow]) -> None:
        repo, add = store
        add("NoSinceUser", 9731423166, None)
        with pytest.raises(CorruptUserRecord):
            repo.get(Name("NoSinceUser"))

    def test_a_corrupt_row_does_not_spoil_the_next_lookup(
        self, store: tuple[Repository, AddRow]
    ) -> None:
        repo, add = store
        add("BrokenPhone1", 12345, SINCE)
        add("KrishnaMohan", 9731423166, SINCE)
        with pytest.raises(CorruptUserRecord):
            repo.get(Name("BrokenPhone1"))
        assert repo.get(Name("KrishnaMohan")).phone.value == 9731423166

    def test_ping_succeeds_on_a_reachable_store(self, store: tuple[Repository, AddRow]) -> None:
        repo, _ = store
        repo.ping()
