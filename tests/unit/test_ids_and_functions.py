"""Finding ids are deterministic and distinct; custom JMESPath functions behave as documented."""

from __future__ import annotations

import jmespath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaudit.catalog.functions import OPTIONS
from relaudit.ids import finding_id

PARTS = ("111122223333", "us-east-1", "rds-db-instance-multi-az", "arn:aws:rds:us-east-1:111122223333:db:x")


def test_id_is_stable_across_calls_and_readable() -> None:
    assert finding_id(*PARTS) == finding_id(*PARTS)
    assert finding_id(*PARTS).startswith("relaudit/111122223333/us-east-1/rds-db-instance-multi-az/")


@pytest.mark.parametrize("index", range(4))
def test_each_component_changes_the_id(index: int) -> None:
    changed = list(PARTS)
    changed[index] += "x"
    assert finding_id(*changed) != finding_id(*PARTS)


@given(st.lists(st.text(min_size=1, max_size=300), min_size=4, max_size=4))
def test_id_fits_security_hub_limit(parts: list[str]) -> None:
    identifier = finding_id(parts[0][:12], parts[1][:20], parts[2][:64], parts[3])
    assert len(identifier) <= 512


def search(expression: str, data: object) -> object:
    return jmespath.search(expression, data, options=OPTIONS)


def test_unique_keeps_first_order() -> None:
    assert search("unique(@)", ["b", "a", "b"]) == ["b", "a"]


def test_includes_treats_null_as_empty() -> None:
    assert search("includes(Missing, 'x')", {}) is False
    assert search("includes(Items, 'x')", {"Items": ["x"]}) is True


def test_lower() -> None:
    assert search("lower(Name)", {"Name": "DLQ"}) == "dlq"
