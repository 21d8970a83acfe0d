import time
import unicodedata
from datetime import UTC, datetime

import pytest

from findsvc.domain.deadline import Deadline
from findsvc.domain.model import (
    CorruptUserRecord,
    InvalidName,
    InvalidPhoneNumber,
    Name,
    PhoneNumber,
    User,
)

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


class TestWhatTheRulesSay:
    """The reasons reach callers (a BadRequest field violation) and operators (a corrupt row's
    log line): they are part of the contract."""

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("Krishna\x00Mohan", "must not contain control characters"),
            ("short", "must be 8 to 32 characters long"),
            ("x" * 33, "must be 8 to 32 characters long"),
        ],
    )
    def test_a_bad_name_says_why(self, raw: str, reason: str) -> None:
        with pytest.raises(InvalidName) as raised:
            Name.parse(raw)
        assert raised.value.reason == reason

    def test_a_name_with_whitespace_around_it_is_not_a_name(self) -> None:
        with pytest.raises(InvalidName) as raised:
            Name(" KrishnaMohan")
        assert raised.value.reason == "must not have surrounding whitespace"

    @pytest.mark.parametrize(
        ("value", "reason"),
        [(True, "must be an integer"), ("9731423166", "must be an integer")],
    )
    def test_a_phone_that_is_no_integer_says_so(self, value: object, reason: str) -> None:
        with pytest.raises(InvalidPhoneNumber) as raised:
            PhoneNumber(value)  # type: ignore[arg-type]
        assert str(raised.value) == reason

    def test_a_short_phone_names_the_minimum(self) -> None:
        with pytest.raises(InvalidPhoneNumber) as raised:
            PhoneNumber(12345)
        assert str(raised.value) == "must be at least 9000000000"

    def test_a_corrupt_record_keeps_the_name_and_the_reason(self) -> None:
        record = CorruptUserRecord("BrokenPhone1", "must be at least 9000000000")
        assert (record.name, record.reason) == ("BrokenPhone1", "must be at least 9000000000")
        assert str(record) == "stored user 'BrokenPhone1' is corrupt: must be at least 9000000000"

    def test_users_are_the_same_only_when_their_names_are(self) -> None:
        since = datetime(2018, 3, 14, tzinfo=UTC)
        krishna = User(Name("KrishnaMohan"), PhoneNumber(9731423166), since)
        ada = User(Name("AdaLovelace1"), PhoneNumber(9731423166), since)
        assert krishna != ada
        assert krishna != "KrishnaMohan"
        assert krishna == User(Name("KrishnaMohan"), PhoneNumber(9845012345), since)

    def test_a_deadline_in_the_past_has_nothing_left(self) -> None:
        assert Deadline(at=time.monotonic() - 1, set_by_caller=True).remaining_s() == 0.0
