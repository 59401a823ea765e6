"""Every check file: valid, compiled, and right on each of its own examples."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relaudit.catalog.evaluate import PARAMS_KEY, status_of
from relaudit.catalog.functions import OPTIONS
from relaudit.catalog.loader import CompiledCheck, builtin_checks_dir, load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.models.check import CheckDefinition, Status

CATALOG = load_catalog(known_types=COLLECTORS)
EXAMPLES = [
    pytest.param(check, example, id=f"{check.id}::{example.name}")
    for check in CATALOG.checks.values()
    for example in check.definition.examples
]


def test_catalog_is_not_empty() -> None:
    assert len(CATALOG.checks) >= 9
    assert not CATALOG.problems


@pytest.mark.parametrize(("check", "example"), EXAMPLES)
def test_example_gives_expected_status(check: CompiledCheck, example: Any) -> None:
    assert status_of(check, example.resource) is example.expect


@pytest.mark.parametrize(("check", "example"), EXAMPLES)
def test_expressions_yield_real_booleans(check: CompiledCheck, example: Any) -> None:
    """A typo'd key yields null, not false; demanding booleans catches it on the examples."""
    document = {**example.resource, PARAMS_KEY: check.definition.parameters}
    if check.applies is not None:
        applies = check.applies.search(document, options=OPTIONS)
        assert isinstance(applies, bool), f"applies_when gave {applies!r}"
        if not applies:
            return
    passes = check.passes.search(document, options=OPTIONS)
    assert isinstance(passes, bool), f"passes_when gave {passes!r}"


@pytest.mark.parametrize("check", list(CATALOG.checks.values()), ids=lambda c: c.id)
def test_check_has_pass_fail_and_metadata(check: CompiledCheck) -> None:
    expects = {example.expect for example in check.definition.examples}
    assert {Status.PASSED, Status.FAILED} <= expects
    if check.applies is not None:
        assert Status.NOT_APPLICABLE in expects, "a check with applies_when needs a NOT_APPLICABLE example"
    assert check.definition.risk, "severity needs its reason in 'risk'"
    assert check.definition.references.docs, "cite the AWS documentation page the rule comes from"


def test_every_collector_is_used_by_a_check() -> None:
    assert set(COLLECTORS) == CATALOG.resource_types()


def test_schema_file_is_current() -> None:
    """checks/check.schema.json is generated from the model (`make docs` regenerates it)."""
    on_disk = json.loads((builtin_checks_dir() / "check.schema.json").read_text())
    assert on_disk == CheckDefinition.model_json_schema()
