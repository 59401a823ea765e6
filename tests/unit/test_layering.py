"""The house's layers: data flows one way (inventory -> evaluation -> sinks -> reports), and a
collector never imports another collector (a join two collectors share lives in a helper module)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from relaudit.inventory import COLLECTORS

SRC = Path(__file__).resolve().parents[2] / "src"

# A package (or module) and the relaudit modules it must not import, at any depth of its own files.
# Imports under TYPE_CHECKING count too: a type that points up the flow is a route back up.
FORBIDDEN = {
    "relaudit.inventory": ("relaudit.run", "relaudit.cli", "relaudit.sinks", "relaudit.report", "relaudit.graph"),
    "relaudit.catalog": ("relaudit.run", "relaudit.cli", "relaudit.sinks", "relaudit.report", "relaudit.inventory"),
    "relaudit.graph": ("relaudit.run", "relaudit.cli", "relaudit.sinks", "relaudit.report"),
    "relaudit.policy": ("relaudit.run", "relaudit.cli", "relaudit.sinks", "relaudit.report", "relaudit.inventory"),
    "relaudit.sinks": ("relaudit.run", "relaudit.cli", "relaudit.report", "relaudit.fanout", "relaudit.handlers"),
    "relaudit.models": ("relaudit.run", "relaudit.cli", "relaudit.sinks", "relaudit.report", "relaudit.inventory"),
}

# Tools that read across the layers on purpose, and why.
EXEMPT = {"relaudit.catalog.docs": "writes docs/checks.md, which says which collector reads each type"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every relaudit module ``path`` imports (``from relaudit.x import y`` counts x and x.y)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("relaudit")}


MODULES = {_module_name(path): path for path in sorted((SRC / "relaudit").rglob("*.py"))}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_against_the_flow(package: str) -> None:
    offending = [
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if (name == package or name.startswith(package + ".")) and name not in EXEMPT
        for imported in sorted(_imports(path))
        if any(imported == bad or imported.startswith(bad + ".") for bad in FORBIDDEN[package])
    ]
    assert offending == []


def test_collectors_do_not_import_collectors() -> None:
    collectors = set(COLLECTORS.values())
    offending = [
        f"{module} imports {imported}"
        for module in sorted(collectors)
        for imported in sorted(_imports(MODULES[module]) & collectors)
        if imported != module
    ]
    assert offending == []


def test_the_walk_sees_imports() -> None:
    # The SQS collector reads shared listings: if the walk missed it, the tests above would pass vacuously.
    assert "relaudit.inventory.listings" in _imports(MODULES["relaudit.inventory.sqs_queue"])
