"""Links from the README and the docs to the repository's own files lead somewhere.

Files move, links rot. Links between docs pages, and their anchors, are checked by the site's
build (`mkdocs build --strict` in `make test`); the README is not part of the site, so its
links into the docs are checked here, anchors included.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support.docs import DOCS, ROOT, anchors

LINK = re.compile(r"\]\(([^)#\s]+)(?:#([^)\s]*))?\)")
SOURCES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def relative_links(source: Path) -> list[tuple[Path, str]]:
    """Each link of a Markdown file that is not a URL: the file it names, and the anchor."""
    text = source.read_text(encoding="utf-8")
    return [
        ((source.parent / match.group(1)).resolve(), match.group(2) or "")
        for match in LINK.finditer(text)
        if "://" not in match.group(1) and not match.group(1).startswith("mailto:")
    ]


def cases() -> list[tuple[str, str]]:
    """(the linking file, the file it names), both by their path from the repository's root."""
    return sorted(
        {
            (source.relative_to(ROOT).as_posix(), os.path.relpath(target, ROOT))
            for source in SOURCES
            for target, _ in relative_links(source)
        }
    )


def test_the_readme_and_the_docs_link_to_files_of_this_repository() -> None:
    outside_docs = [target for _, target in cases() if not target.startswith("docs/")]
    assert len(outside_docs) > 10


@pytest.mark.parametrize(("source", "target"), cases())
def test_each_link_names_a_file_or_folder_of_the_repository(source: str, target: str) -> None:
    assert not target.startswith(".."), f"{source} links outside the repository"
    assert (ROOT / target).exists(), f"{source} links to a missing {target}"


def test_the_readmes_links_into_the_docs_find_their_headings() -> None:
    into_docs = [(t, f) for t, f in relative_links(ROOT / "README.md") if t.parent == DOCS]
    assert into_docs, "the README leads into the docs"
    missing = [f"{t.name}#{f}" for t, f in into_docs if f and f not in anchors(t.name)]
    assert missing == []


def test_the_readme_is_a_front_door_and_the_docs_hold_the_rest() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "| `FINDSVC_" not in readme, "the settings table lives in docs/settings.md"
