"""Every field path a check reads, and every raw path a collector reads, exists in botocore's models.

Each collector declares its documents (``DOCUMENT``, see relaudit.inventory.shapes): the output
items of the operation it copies and the fields it adds. This walks each check's JMESPath through
that declaration and botocore's output shapes, so a field renamed in a botocore model, a typo'd
check (``Triggers.Asyn``, ``VisibiltyTimeout``) or a check reading a field no collector provides
fails here, not silently as null on a real account. The collector tests (tests/integration/
inventory) hold each DOCUMENT to what the collector really yields. A graph check reads the graph
document instead: its fields (``path:`` too) are walked through relaudit.graph.documents.DOCUMENT,
which tests/unit/graph/test_documents.py holds to what node_document writes.
"""

from __future__ import annotations

from typing import Any

import jmespath
import pytest

from relaudit.catalog.loader import CompiledCheck, load_catalog
from relaudit.graph import documents as graph_documents
from relaudit.inventory import COLLECTORS, shapes
from tests.support.shape_walk import Missing, document_spec, element_of, field_of, reads_of, resolve, steps_of, walk

CATALOG = load_catalog(known_types=COLLECTORS)


@pytest.mark.parametrize("check", list(CATALOG.checks.values()), ids=lambda c: c.id)
def test_every_field_a_check_reads_exists(check: CompiledCheck) -> None:
    graph = check.definition.graph
    document = graph_documents.DOCUMENT if graph else document_spec(check.definition.resource_type)
    expressions = (("applies_when", check.applies), ("passes_when", check.passes), ("path", check.finding_path))
    for name, expression in expressions:
        if expression is not None:
            walk(expression.parsed, document, f"{check.id} {name}")


@pytest.mark.parametrize("resource_type", sorted(COLLECTORS))
def test_every_raw_path_a_collector_reads_exists(resource_type: str) -> None:
    apis = reads_of(resource_type)
    assert apis, "a collector copies some API's output"
    for api in apis:
        where = f"{resource_type} {api.service}.{api.operation}"
        item = resolve(api)
        for read in api.reads:
            spec: Any = item
            for step in steps_of(read):
                spec = element_of(spec, where) if step in ("[]", "*") else field_of(spec, step, f"{where} {read}")


def test_a_typo_or_a_renamed_field_fails() -> None:
    document = document_spec("AWS::Lambda::Function")
    with pytest.raises(Missing, match="Asyn"):
        walk({"type": "subexpression", "children": [_field("Triggers"), _field("Asyn")]}, document, "t")
    with pytest.raises(Missing, match="Timeot"):
        walk(_field("Timeot"), document, "t")
    with pytest.raises(Missing, match="TargetArnn"):
        walk({"type": "subexpression", "children": [_field("DeadLetterConfig"), _field("TargetArnn")]}, document, "t")
    with pytest.raises(Missing, match="Functionz"):
        resolve(shapes.Api("lambda", "ListFunctions", "Functionz[]"))


def test_a_typo_in_a_graph_checks_field_fails() -> None:
    graph = graph_documents.DOCUMENT
    walk({"type": "subexpression", "children": [_field("Graph"), _field("SyncChain")]}, graph, "t")
    with pytest.raises(Missing, match="SyncChian"):
        walk({"type": "subexpression", "children": [_field("Graph"), _field("SyncChian")]}, graph, "t")
    edges = {"type": "subexpression", "children": [_field("Graph"), _field("Out")]}
    with pytest.raises(Missing, match="PeerTimeot"):
        walk({"type": "projection", "children": [edges, _field("PeerTimeot")]}, graph, "t")
    with pytest.raises(Missing, match="AtLeastOnce"):  # In's entries only
        walk({"type": "projection", "children": [edges, _field("AtLeastOnce")]}, graph, "t")
    with pytest.raises(Missing, match="Graph"):  # a collector's document has no graph fields
        walk(_field("Graph"), document_spec("AWS::Lambda::Function"), "t")


def test_an_expression_reference_is_walked_through_the_items_it_runs_on() -> None:
    """``max_by(array, &field)``: ``field`` is an item's, and so is what follows the call."""
    graph = graph_documents.DOCUMENT
    walk(jmespath.compile("max_by(Graph.In[?Mode == 'sync'], &BurstLimit).Peer").parsed, graph, "t")
    with pytest.raises(Missing, match="BurstLimt"):
        walk(jmespath.compile("max_by(Graph.In[?Mode == 'sync'], &BurstLimt).Peer").parsed, graph, "t")
    with pytest.raises(Missing, match="Peeer"):
        walk(jmespath.compile("max_by(Graph.In, &BurstLimit).Peeer").parsed, graph, "t")
    with pytest.raises(Missing, match="Timeot"):
        walk(jmespath.compile("sort_by(Graph.Out, &PeerTimeot)").parsed, graph, "t")


def _field(name: str) -> dict[str, Any]:
    return {"type": "field", "children": [], "value": name}
