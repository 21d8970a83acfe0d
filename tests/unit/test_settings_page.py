"""The docs' Settings page is the one the Settings fields make, and agrees with load()."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from findsvc.bootstrap import DEFAULT_SQLITE_PATH
from findsvc.config import MAX_SECONDS, OPTIONS, Option, add_flags, load, setting
from findsvc.config.docs_page import (
    GENERATED,
    anchor,
    section_links,
    settings_page,
    settings_table,
)
from findsvc.config.options import options
from tests.support.docs import ROOT, page, pages

SETTINGS = page("settings.md")
BY_ENV_VAR = {option.env_var: option for option in OPTIONS}
CELL_BORDER = re.compile(r"(?<!\\)\|")
LINK = re.compile(r"\]\(([\w-]+\.md)(#[^)]*)\)")


def setting_rows() -> list[list[str]]:
    """Every table row of the page that starts with an env var's name."""
    return [
        [cell.strip() for cell in CELL_BORDER.split(line.strip())[1:-1]]
        for line in SETTINGS.splitlines()
        if line.startswith("| `FINDSVC_")
    ]


def rows_by_option() -> list[tuple[Option, list[str]]]:
    return [(BY_ENV_VAR[row[0].strip("`")], row) for row in setting_rows()]


class TestTheSettingsPage:
    def test_is_the_one_the_settings_make(self) -> None:
        assert settings_page(pages()) == SETTINGS, (
            "run `python -m findsvc.config --write docs/settings.md`"
        )

    def test_says_it_is_generated_and_from_what(self) -> None:
        assert SETTINGS.startswith(GENERATED)
        assert "findsvc/config/settings.py" in GENERATED

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

    def test_links_each_see_to_the_page_with_that_heading(self) -> None:
        links = LINK.findall(SETTINGS)
        seen = {option.see for option in OPTIONS if option.see}
        assert len(links) == sum(1 for option in OPTIONS if option.see)
        assert {f"{name}{fragment}" for name, fragment in links} == {
            section_links(pages())[title][0] for title in seen
        }


class TestTheConfigurationPage:
    def test_gives_the_longest_duration_grpc_takes(self) -> None:
        assert f"at most {MAX_SECONDS}" in page("configuration.md")


class TestWritingThePage:
    def test_a_see_that_no_page_has_stops_the_page(self) -> None:
        @dataclass(frozen=True)
        class Lost:
            port: int = setting(50051, int, "a port", "gRPC port", see="No Such Section")

        with pytest.raises(ValueError, match="FINDSVC_PORT: 'No Such Section'"):
            settings_table(section_links({"a.md": "# Somewhere\n"}), options(Lost))

    def test_a_see_two_pages_have_stops_the_page(self) -> None:
        @dataclass(frozen=True)
        class Twice:
            port: int = setting(50051, int, "a port", "gRPC port", see="Ports")

        with pytest.raises(ValueError, match=r"a\.md#ports, b\.md#ports"):
            settings_table(
                section_links({"a.md": "## Ports\n", "b.md": "# Ports\n"}), options(Twice)
            )

    def test_a_heading_in_fenced_code_is_no_section(self) -> None:
        assert section_links({"a.md": "```sh\n# Ports\n```\n## Real\n"}) == {"Real": ["a.md#real"]}

    def test_refuses_to_overwrite_a_page_it_did_not_write(self, tmp_path: Path) -> None:
        readme = tmp_path / "README.md"
        readme.write_text("# findsvc\n")
        written = subprocess.run(
            [sys.executable, "-m", "findsvc.config", "--write", str(readme)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert (written.returncode, readme.read_text()) == (1, "# findsvc\n")
        assert "refusing to overwrite" in written.stderr


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


def test_anchor_is_the_sites_and_the_git_hosts() -> None:
    assert anchor("Python: `findsvc.client`") == "#python-findsvcclient"
