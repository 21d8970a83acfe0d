"""Fixtures of the integration tests."""

from __future__ import annotations

import pytest

from findsvc.config import DatabaseUrl
from tests.support.calls import KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE
from tests.support.db import create_database, insert_user


@pytest.fixture
def seeded(mysql_url: DatabaseUrl) -> DatabaseUrl:
    """A database with the AddService's table and one user, KrishnaMohan."""
    create_database(mysql_url)
    insert_user(mysql_url, KRISHNA, KRISHNA_PHONE, KRISHNA_SINCE)
    return mysql_url
