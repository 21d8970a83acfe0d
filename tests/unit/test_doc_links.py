"""The README's links to the repository's own files lead somewhere: files move, links rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def repository_links() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return sorted({m.group(1) for m in LINK.finditer(readme) if "://" not in m.group(1)})


def test_the_readme_links_to_files_of_this_repository() -> None:
    assert len(repository_links()) > 10


@pytest.mark.parametrize("target", repository_links())
def test_each_link_names_a_file_or_folder_that_exists(target: str) -> None:
    assert (ROOT / target).exists()
