"""What imports what: each room of the code reaches only the rooms below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "findsvc"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every findsvc module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {name for name in found if name.split(".")[0] == "findsvc"}


MODULES = {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def in_room(module: str, room: str) -> bool:
    return module == room or module.startswith(room + ".")


def importers_of(room: str) -> set[str]:
    return {
        module
        for module, imported in MODULES.items()
        if not in_room(module, room) and any(in_room(name, room) for name in imported)
    }


def reaches_outside(room: str, allowed: tuple[str, ...]) -> dict[str, set[str]]:
    return {
        module: outside
        for module, imported in MODULES.items()
        if in_room(module, room)
        and (
            outside := {
                name
                for name in imported
                if not any(in_room(name, other) for other in (room, *allowed))
            }
        )
    }


class TestTheCompositionRoot:
    def test_is_imported_only_by_the_command_that_runs_it(self) -> None:
        assert importers_of("findsvc.bootstrap") == {"findsvc.entrypoints.cli"}


class TestRoomsReachOnlyBelowThem:
    @pytest.mark.parametrize(
        ("room", "allowed"),
        [
            ("findsvc.domain", ()),
            ("findsvc.service_layer", ("findsvc.domain",)),
            ("findsvc.policies", ("findsvc.domain",)),
        ],
    )
    def test_imports_nothing_from_a_room_above_it(
        self, room: str, allowed: tuple[str, ...]
    ) -> None:
        assert reaches_outside(room, allowed) == {}


class TestTheCallPath:
    @pytest.mark.parametrize(
        ("room", "other"),
        [
            ("findsvc.entrypoints.middleware", "findsvc.entrypoints.runtime"),
            ("findsvc.entrypoints.runtime", "findsvc.entrypoints.middleware"),
        ],
    )
    def test_middleware_and_runtime_meet_only_in_the_chain(self, room: str, other: str) -> None:
        """They talk through what the chain (chain.py) hands each one when it is built."""
        assert importers_of(other) & {m for m in MODULES if in_room(m, room)} == set()
