"""docs/checks.md is generated from checks/*.yaml (`make docs`); this keeps it current."""

from __future__ import annotations

from pathlib import Path

from relaudit.catalog.docs import render, render_catalog
from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def test_docs_checks_md_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_catalog(), "run `make docs` and commit docs/checks.md"


def test_every_check_is_listed_once_under_its_best_practice() -> None:
    checks = [c.definition for c in load_catalog(known_types=COLLECTORS).checks.values()]
    text = render(checks)
    for check in checks:
        assert text.count(f"[`{check.id}`]") == 1, check.id
        section = text.rindex(f"\n### {check.best_practice}", 0, text.index(f"[`{check.id}`]"))
        assert "\n### " not in text[section + 1 : text.index(f"[`{check.id}`]")], check.id
    assert f"{len(checks)} checks over {len({c.resource_type for c in checks})} resource types" in text
