"""The README's settings table, made from the Settings fields: `python -m findsvc.config`."""

from __future__ import annotations

import re

from findsvc.config.options import Option
from findsvc.config.settings import OPTIONS

BEGIN = "<!-- settings table: made by `python -m findsvc.config --write README.md` -->"
END = "<!-- end of settings table -->"

HEADER = ("env var", "flag", "value", "default", "meaning")


def shown_default(option: Option) -> str:
    """The default as an env var would spell it: 1 or 0, 180 not 180.0."""
    value = option.default
    if value is None:
        return option.unset
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return f"`{value}`"
    return str(value)


def anchor(title: str) -> str:
    """GitHub's link target for a heading."""
    return "#" + re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def meaning(option: Option) -> str:
    if not option.see:
        return option.help
    return f"{option.help}; see [{option.see}]({anchor(option.see)})"


def settings_table(options: tuple[Option, ...] = OPTIONS) -> str:
    rows: list[tuple[str, ...]] = [HEADER, ("---",) * len(HEADER)]
    for option in options:
        cells = (
            f"`{option.env_var}`",
            f"`{option.flag}`",
            option.expects,
            shown_default(option),
            meaning(option),
        )
        rows.append(tuple(cell.replace("|", "\\|") for cell in cells))
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def with_settings_table(readme: str) -> str:
    """The README with the text between the markers replaced by the table."""
    start = readme.find(BEGIN)
    end = readme.find(END, start)
    if start < 0 or end < 0:
        raise ValueError("the README has no settings table markers")
    start += len(BEGIN)
    return readme[:start] + "\n" + settings_table() + "\n" + readme[end:]
