"""Fixtures for the sink tests: a findings table on moto and delivery options that never really sleep."""

from __future__ import annotations

from typing import Any

import pytest

from relaudit.sinks.dynamodb import FindingsTable, ensure_table
from tests.integration.sinks.helpers import FakeTime, fast_options

TABLE = "relaudit-findings"


@pytest.fixture
def fake_time() -> FakeTime:
    """The clock and sleep recorder behind ``options``."""
    return FakeTime()


@pytest.fixture
def options() -> Any:
    """(DeliveryOptions, FakeTime): retries and pacing recorded, never slept."""
    return fast_options()


@pytest.fixture
def table(factory: Any, options: Any) -> FindingsTable:
    """The findings table, created on moto with the schema template.yaml declares."""
    ensure_table(factory.client("dynamodb"), TABLE)
    return FindingsTable(factory.client("dynamodb"), TABLE, options[0])
