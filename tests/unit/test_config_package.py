"""findsvc.config stands alone: it imports nothing of findsvc but itself and the CPU count."""

from __future__ import annotations

import ast
from pathlib import Path

import findsvc.config

PACKAGE = Path(findsvc.config.__file__).parent
ALLOWED = ("findsvc.config", "findsvc.cpu_budget")


def findsvc_imports(source: Path) -> set[str]:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return {name for name in imported if name.split(".")[0] == "findsvc"}


class TestTheConfigPackage:
    def test_imports_nothing_of_findsvc_but_itself_and_the_cpu_count(self) -> None:
        strays = {
            f"{source.name}: {name}"
            for source in PACKAGE.glob("*.py")
            for name in findsvc_imports(source)
            if not any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED)
        }
        assert strays == set()

    def test_every_module_is_under_250_lines(self) -> None:
        lengths = {
            source.name: len(source.read_text().splitlines()) for source in PACKAGE.glob("*.py")
        }
        assert {name: n for name, n in lengths.items() if n >= 250} == {}
