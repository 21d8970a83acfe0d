"""The README's settings table is the one the Settings fields make, and agrees with load()."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from findsvc.bootstrap import DEFAULT_SQLITE_PATH
from findsvc.config import MAX_SECONDS, OPTIONS, Option, add_flags, load, setting
from findsvc.config.options import options
from findsvc.config.table import anchor, with_settings_table

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
BY_ENV_VAR = {option.env_var: option for option in OPTIONS}
CELL_BORDER = re.compile(r"(?<!\\)\|")


def setting_rows() -> list[list[str]]:
    """Every table row of the README, in any table, that starts with an env var's name."""
    return [
        [cell.strip() for cell in CELL_BORDER.split(line.strip())[1:-1]]
        for line in README.splitlines()
        if line.startswith("| `FINDSVC_")
    ]


def rows_by_option() -> list[tuple[Option, list[str]]]:
    return [(BY_ENV_VAR[row[0].strip("`")], row) for row in setting_rows()]


class TestTheReadmeTable:
    def test_is_the_one_the_settings_make(self) -> None:
        assert with_settings_table(README) == README, (
            "run `python -m findsvc.config --write README.md`"
        )

    def test_has_one_row_for_each_setting_and_none_for_any_other(self) -> None:
        named = Counter(row[0].strip("`") for row in setting_rows())
        assert named == dict.fromkeys(BY_ENV_VAR, 1)

    def test_names_each_setting_by_the_flag_that_sets_it(self) -> None:
        parser = argparse.ArgumentParser()
        add_flags(parser)
        for option, row in rows_by_option():
            flags = vars(parser.parse_args([row[1].strip("`"), "given"]))
            assert flags[option.name] == "given"

    def test_shows_the_default_that_load_gives(self) -> None:
        defaults = load({})
        for option, row in rows_by_option():
            shown = row[3].strip("`")
            if option.default is None:
                assert (shown, getattr(defaults, option.name)) == (option.unset, None)
            else:
                assert option.parse(shown) == getattr(defaults, option.name), option.name

    def test_names_the_file_the_embedded_database_lives_in(self) -> None:
        db_url = next(row for option, row in rows_by_option() if option.name == "db_url")
        assert str(DEFAULT_SQLITE_PATH) in db_url[3]

    def test_points_only_to_sections_the_readme_has(self) -> None:
        headings = re.findall(r"^#+ (.+)$", README, re.MULTILINE)
        sections = {anchor(title) for title in headings}
        assert {anchor(option.see) for option in OPTIONS if option.see} <= sections

    def test_gives_the_longest_duration_grpc_takes(self) -> None:
        assert f"at most {MAX_SECONDS}" in README


class TestSettingsFields:
    def test_help_shows_each_settings_help_and_env_var(self) -> None:
        parser = argparse.ArgumentParser()
        add_flags(parser)
        # argparse wraps lines, even at hyphens, so compare without any whitespace.
        text = "".join(parser.format_help().split())
        for option in OPTIONS:
            assert "".join(f"{option.help} [{option.env_var}]".split()) in text

    def test_a_field_without_a_description_is_refused(self) -> None:
        @dataclass(frozen=True)
        class Undescribed:
            port: int = setting(50051, int, "a port", "gRPC port")
            host: str = "[::]"

        with pytest.raises(TypeError, match=r"Undescribed\.host"):
            options(Undescribed)
