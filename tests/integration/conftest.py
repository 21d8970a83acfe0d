"""Fixtures of the integration tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from findsvc.config import DatabaseUrl
from tests.support.db import create_database, insert_user


@pytest.fixture
def seeded(mysql_url: DatabaseUrl) -> DatabaseUrl:
    """A database with the AddService's table and one user, KrishnaMohan."""
    create_database(mysql_url)
    insert_user(mysql_url, "KrishnaMohan", 9731423166, datetime(2018, 3, 14, tzinfo=UTC))
    return mysql_url
