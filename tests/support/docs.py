"""The docs site's pages, for the tests that hold them to the code (settings, rules, links)."""

from __future__ import annotations

from pathlib import Path

from findsvc.config.docs_page import anchor, headings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def pages() -> dict[str, str]:
    """Every page of the site, by file name."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md"))}


def anchors(name: str) -> set[str]:
    """The link targets of a page's headings, without the '#'."""
    return {anchor(title)[1:] for title in headings(page(name))}
