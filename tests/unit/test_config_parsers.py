"""Each value parser on the values the README documents, and on the ones it refuses."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from findsvc.config import parsers
from findsvc.config.parsers import OutOfRange
from findsvc.cpu_budget import usable_cpus


class TestSwitch:
    @pytest.mark.parametrize("raw", ["1", "true", "yes", "on", "TRUE", " Yes ", "ON"])
    def test_turns_on_with_any_documented_word(self, raw: str) -> None:
        assert parsers.switch(raw) is True

    @pytest.mark.parametrize("raw", ["0", "false", "no", "off", "FALSE", " No ", "OFF"])
    def test_turns_off_with_any_documented_word(self, raw: str) -> None:
        assert parsers.switch(raw) is False

    @pytest.mark.parametrize("raw", ["", "2", "y", "enabled"])
    def test_refuses_anything_else(self, raw: str) -> None:
        with pytest.raises(ValueError):
            parsers.switch(raw)


class TestNamedChoices:
    @pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
    def test_every_log_level_in_any_case(self, level: str) -> None:
        assert parsers.log_level(level) == level
        assert parsers.log_level(f" {level.lower()} ") == level

    @pytest.mark.parametrize("choice", ["all", "errors", "off"])
    def test_every_access_log_choice_in_any_case(self, choice: str) -> None:
        assert parsers.access_log(choice) == choice
        assert parsers.access_log(f" {choice.upper()} ") == choice

    @pytest.mark.parametrize("mode", ["off", "required", "verify-ca", "verify-identity"])
    def test_every_db_tls_mode_in_any_case(self, mode: str) -> None:
        assert parsers.db_tls(mode.upper()) == mode

    @pytest.mark.parametrize(
        ("parser", "raw"),
        [
            (parsers.log_level, "VERBOSE"),
            (parsers.access_log, "some"),
            (parsers.db_tls, "disabled"),
        ],
    )
    def test_an_unknown_name_is_refused(self, parser: object, raw: str) -> None:
        with pytest.raises(ValueError):
            parser(raw)  # type: ignore[operator]


class TestNumbers:
    @pytest.mark.parametrize(("raw", "value"), [("0", 0), ("50051", 50051), ("65535", 65535)])
    def test_a_port_from_0_to_65535(self, raw: str, value: int) -> None:
        assert parsers.port(raw) == value  # 0: a free port (FINDSVC_METRICS_PORT=0)

    @pytest.mark.parametrize("raw", ["-1", "65536", "http"])
    def test_a_port_outside_is_refused(self, raw: str) -> None:
        with pytest.raises(ValueError):
            parsers.port(raw)

    def test_a_count_starts_at_1(self) -> None:
        assert parsers.positive_int("1") == 1
        with pytest.raises(ValueError):
            parsers.positive_int("0")

    @pytest.mark.parametrize(("raw", "value"), [("0", 0.0), ("0.5", 0.5), ("2147483", 2147483)])
    def test_seconds_from_0_to_what_grpc_can_count(self, raw: str, value: float) -> None:
        assert parsers.seconds(raw) == value

    @pytest.mark.parametrize("raw", ["-0.1", "2147484", "nan", "inf"])
    def test_seconds_outside_say_the_bounds(self, raw: str) -> None:
        with pytest.raises(OutOfRange) as raised:
            parsers.seconds(raw)
        assert str(raised.value) == "from 0 to 2147483"

    def test_a_cap_or_timeout_must_be_above_0(self) -> None:
        assert parsers.positive_seconds("0.5") == 0.5
        assert parsers.positive_seconds("1") == 1.0
        with pytest.raises(OutOfRange) as raised:
            parsers.positive_seconds("0")
        assert str(raised.value) == "above 0 and at most 2147483"

    def test_the_health_interval_is_at_least_a_tenth_of_a_second(self) -> None:
        assert math.isclose(parsers.health_interval("0.1"), 0.1)
        with pytest.raises(OutOfRange) as raised:
            parsers.health_interval("0.09")
        assert str(raised.value) == "at least 0.1"

    def test_processes_auto_is_the_usable_cpus_and_a_number_is_itself(self) -> None:
        assert parsers.processes(" AUTO ") == usable_cpus()
        assert parsers.processes("3") == 3
        with pytest.raises(ValueError):
            parsers.processes("0")


class TestFiles:
    def test_a_readable_file_is_its_path(self, tmp_path: Path) -> None:
        path = tmp_path / "tokens"
        path.write_text("x\n")
        assert parsers.readable_file(str(path)) == path

    def test_a_missing_file_or_a_directory_is_refused(self, tmp_path: Path) -> None:
        for raw in (str(tmp_path / "missing"), str(tmp_path)):
            with pytest.raises(ValueError):
                parsers.readable_file(raw)

    def test_an_empty_optional_url_is_none(self) -> None:
        assert parsers.optional_url("") is None
        url = parsers.optional_url("mysql://findsvc@db:3306/glarimy")
        assert url is not None and url.host == "db"
