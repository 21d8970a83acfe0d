import unicodedata
from datetime import UTC, datetime

import pytest

from findsvc.domain.model import InvalidName, InvalidPhoneNumber, Name, PhoneNumber, User

SINCE = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


class TestName:
    def test_surrounding_whitespace_is_stripped(self) -> None:
        assert Name.parse("  KrishnaMohan\t\n").value == "KrishnaMohan"

    @pytest.mark.parametrize("raw", ["a" * 8, "a" * 32, "Krishna Mohan", "Zoë Ångström"])
    def test_eight_to_thirty_two_characters_are_valid(self, raw: str) -> None:
        assert Name.parse(raw).value == raw

    @pytest.mark.parametrize("raw", ["", "a" * 7, "a" * 33, "   short   "])
    def test_other_lengths_are_invalid(self, raw: str) -> None:
        with pytest.raises(InvalidName, match="8 to 32"):
            Name.parse(raw)

    @pytest.mark.parametrize("raw", ["Krishna\x00Mohan", "Krishna\nMohan", "Krishna\x7fMohan"])
    def test_control_characters_are_invalid(self, raw: str) -> None:
        with pytest.raises(InvalidName, match="control"):
            Name.parse(raw)

    def test_a_name_is_a_value(self) -> None:
        assert Name("KrishnaMohan") == Name.parse(" KrishnaMohan ")


class TestControlCharacters:
    def test_a_name_is_rejected_exactly_for_unicodes_control_characters(self) -> None:
        # Every Cc code point is below U+00A0; the range checks their neighbours too.
        for code_point in range(0x3000):
            character = chr(code_point)
            try:
                Name(f"Krishna{character}Mohan")
                rejected = False
            except InvalidName:
                rejected = True
            assert rejected == (unicodedata.category(character) == "Cc"), hex(code_point)


class TestPhoneNumber:
    def test_the_smallest_valid_number_is_9000000000(self) -> None:
        assert PhoneNumber(9_000_000_000).value == 9_000_000_000

    @pytest.mark.parametrize("value", [12345, 8_999_999_999, 0, -9_731_423_166])
    def test_smaller_numbers_are_invalid(self, value: int) -> None:
        with pytest.raises(InvalidPhoneNumber):
            PhoneNumber(value)

    @pytest.mark.parametrize("value", [True, 9.7e9, "9731423166"])
    def test_only_integers_are_phone_numbers(self, value: object) -> None:
        with pytest.raises(InvalidPhoneNumber):
            PhoneNumber(value)  # type: ignore[arg-type]


class TestUser:
    def test_users_with_the_same_name_are_the_same_user(self) -> None:
        first = User(Name("KrishnaMohan"), PhoneNumber(9731423166), SINCE)
        second = User(Name("KrishnaMohan"), PhoneNumber(9999999999), datetime.now(UTC))
        assert first == second
        assert len({first, second}) == 1

    def test_since_must_be_a_point_in_time(self) -> None:
        with pytest.raises(ValueError, match="timezone"):
            User(Name("KrishnaMohan"), PhoneNumber(9731423166), datetime(2020, 1, 1))

    def test_repr_keeps_the_phone_number_out_of_logs(self) -> None:
        user = User(Name("KrishnaMohan"), PhoneNumber(9731423166), SINCE)
        assert "9731423166" not in repr(user)
        assert "KrishnaMohan" in repr(user)
