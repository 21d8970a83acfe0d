"""Prints the docs' Settings page; `--write docs/settings.md` writes it there.

The page's links are resolved against the other pages of the folder it goes into.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from findsvc.config.docs_page import GENERATED, PAGE, settings_page


def _page_for(path: Path) -> str:
    pages = {page.name: page.read_text(encoding="utf-8") for page in path.parent.glob("*.md")}
    return settings_page(pages)


def _write(path: Path) -> None:
    if path.exists() and not path.read_text(encoding="utf-8").startswith(GENERATED):
        raise ValueError("not a page this command wrote; refusing to overwrite it")
    path.write_text(_page_for(path), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m findsvc.config", description=__doc__)
    parser.add_argument("--write", type=Path, metavar=f"docs/{PAGE}", help="write the page there")
    target: Path | None = parser.parse_args().write
    path = target or Path("docs", PAGE)
    try:
        if target is None:
            print(_page_for(path), end="")
        else:
            _write(target)
    except (OSError, ValueError) as error:
        print(f"python -m findsvc.config: {path}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
