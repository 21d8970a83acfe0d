import pytest

from findsvc.domain.model import InvalidName, Name, UserNotFound
from findsvc.service_layer.find_user import find_user
from tests.unit.fakes import KRISHNA, FakeRepository


def test_a_known_name_returns_the_user() -> None:
    assert find_user("KrishnaMohan", FakeRepository(KRISHNA)) is KRISHNA


def test_the_name_is_looked_up_without_surrounding_whitespace() -> None:
    users = FakeRepository(KRISHNA)
    find_user("  KrishnaMohan  ", users)
    assert users.lookups == [Name("KrishnaMohan")]


def test_unknown_name_is_not_found() -> None:
    with pytest.raises(UserNotFound):
        find_user("GraceHopper", FakeRepository(KRISHNA))


def test_invalid_name_never_reaches_the_repository() -> None:
    users = FakeRepository(KRISHNA)
    with pytest.raises(InvalidName):
        find_user("short", users)
    assert users.lookups == []
