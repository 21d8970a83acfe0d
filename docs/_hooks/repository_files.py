"""MkDocs hook: links from the docs to the repository's own files.

A page names a repository file by its path from the page, `../bench/results.png`, so the link
works where the git host renders docs/ too. The site holds only docs/, so here the committed
pictures are served from where they are (one file, no copy in docs/), and every other such link
goes to the file on the git host (`repo_url`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[2]
PICTURES = ("bench/results.png", "bench/overload.png", "monitoring/dashboard.png")
_LINK = re.compile(r"\]\(((?:\.\./)+)([^)#\s]+)(#[^)\s]*)?\)")


def on_files(files: Files, config: Any) -> Files:
    for picture in PICTURES:
        files.append(File(picture, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page: Page, config: Any, files: Files) -> str:
    depth = page.file.src_uri.count("/")  # folders below docs/

    def repository_link(link: re.Match[str]) -> str:
        ups, path, fragment = link.group(1), link.group(2), link.group(3) or ""
        if len(ups) // 3 != depth + 1:
            return link.group(0)  # a link within docs/
        if path in PICTURES:
            return f"]({'../' * depth}{path})"
        kind = "tree" if (ROOT / path).is_dir() else "blob"
        return f"]({config['repo_url'].rstrip('/')}/{kind}/main/{path}{fragment})"

    return _LINK.sub(repository_link, markdown)
