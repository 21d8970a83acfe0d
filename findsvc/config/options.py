"""One setting's description, written once, as the metadata of its Settings field.

`setting(...)` is the default of a Settings field and carries its parser, what it expects
and its help; `options(Settings)` reads them back, each named after its field, for load(),
the flags and their --help, and the docs' Settings page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

T = TypeVar("T")

_METADATA_KEY = "findsvc.config.option"


def env_name(option_name: str) -> str:
    return "FINDSVC_" + option_name.upper()


def flag_name(option_name: str) -> str:
    return "--" + option_name.replace("_", "-")


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    parse: Callable[[str], Any]
    expects: str  # what a good value looks like, for error messages and the docs
    help: str  # for --help and the docs
    unset: str = "none"  # what an unset setting (a default of None) means
    see: str = ""  # the heading of a docs section that says more

    @property
    def env_var(self) -> str:
        return env_name(self.name)

    @property
    def flag(self) -> str:
        return flag_name(self.name)


def setting(
    default: T,
    parse: Callable[[str], T],
    expects: str,
    help: str,
    *,
    unset: str = "none",
    see: str = "",
) -> T:
    """A Settings field's default, carrying the rest of the setting's description."""
    described = Option("", default, parse, expects, help, unset, see)
    return field(default=default, metadata={_METADATA_KEY: described})


def options(settings_class: type) -> tuple[Option, ...]:
    """Every field's Option, in field order; a field made without setting() is a TypeError."""
    described: list[Option] = []
    for each in fields(settings_class):
        if _METADATA_KEY not in each.metadata:
            raise TypeError(f"{settings_class.__name__}.{each.name} is not made with setting()")
        described.append(replace(each.metadata[_METADATA_KEY], name=each.name))
    return tuple(described)
