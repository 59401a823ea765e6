"""Helpers for collector tests: run one collector against moto."""

from __future__ import annotations

from typing import Any

import pytest

from relaudit.inventory import load_collector
from relaudit.inventory.base import CollectorContext
from relaudit.models.resource import ResourceDocument
from tests.support.shape_walk import document_spec, field_of

ACCOUNT = "123456789012"


@pytest.fixture
def collect(factory: Any) -> Any:
    """collect(resource_type, region="us-east-1", page_size=2) -> {name: document}."""

    def run(resource_type: str, region: str = "us-east-1", page_size: int | None = 2) -> dict[str, ResourceDocument]:
        ctx = CollectorContext(ACCOUNT, region, factory.bound(region), "aws", page_size)
        docs = list(load_collector(resource_type).collect(ctx))
        assert len({d.arn for d in docs}) == len(docs), "duplicate resources"
        declared = document_spec(resource_type)
        for name in {key for doc in docs for key in doc.properties}:
            field_of(declared, name, f"{resource_type} yields {name!r}: declare it in the collector's DOCUMENT")
        return {d.name: d for d in docs}

    return run


@pytest.fixture
def calls(factory: Any) -> Any:
    """calls(service, region) -> list that fills with operation names as the client makes them."""

    def record(service: str, region: str = "us-east-1") -> list[str]:
        seen: list[str] = []
        client = factory.client(service, region)
        client.meta.events.register("before-call", lambda model, **_: seen.append(model.name))
        return seen

    return record
