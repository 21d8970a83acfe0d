"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from findsvc.adapters.mysql.repository import MySqlUserRepository
from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE
from tests.support.db import create_database, insert_user


@pytest.fixture
def seeded(mysql_url: DatabaseUrl) -> DatabaseUrl:
    """A database with the AddService's table and one user, KrishnaMohan."""
    create_database(mysql_url)
    insert_user(mysql_url, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
    return mysql_url


@pytest.fixture
def repo(seeded: DatabaseUrl) -> Iterator[MySqlUserRepository]:
    """The MySQL repository on `seeded`: a pool of 4, 2 s to connect, 5 s a query."""
    repository = MySqlUserRepository(seeded, seeded.password, 4, 2.0, 5.0)
    yield repository
    repository.close()
