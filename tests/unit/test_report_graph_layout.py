"""The workload drawing's layout: columns follow the edges, boxes never overlap, the same graph gives
the same drawing, and a big workload is bounded to its failing resources and their neighbours."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from relaudit.models.check import Status
from relaudit.report.graph_layout import (
    BOX_HEIGHT,
    BOX_WIDTH,
    MAX_FOREIGN,
    MAX_NODES,
    Drawing,
    GraphIndex,
    layout_workload,
)
from relaudit.report.scorecards import verdicts_by_resource, workload_key
from tests.support.graph_document import GraphDocument, arn, on


def _draw(graph: dict[str, Any], name: str, findings: list[Any] | None = None) -> Drawing:
    index = GraphIndex.of(graph)
    (workload,) = [w for w in graph["workloads"] if w["name"] == name]
    key = workload_key(workload, index.nodes)
    return layout_workload(index, workload, key, verdicts_by_resource(findings or []))


def _boxes_overlap(drawing: Drawing) -> list[tuple[str, str]]:
    boxes = sorted(drawing.nodes, key=lambda n: (n.x, n.y))
    return [
        (a.id, b.id)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if abs(a.x - b.x) < BOX_WIDTH and abs(a.y - b.y) < BOX_HEIGHT
    ]


def test_a_chain_runs_left_to_right_and_a_cycle_shares_a_column() -> None:
    graph = GraphDocument().workload("shop", ["api", "pricing", "orders", "worker", "jobs", "loner"])
    graph.edge("api", "pricing").edge("pricing", "orders", mode="data", kind="write")
    graph.edge("jobs", "worker", mode="poll", kind="event-source-mapping").edge("worker", "jobs", mode="async")
    drawing = _draw(graph.as_dict(), "shop")
    at = {node.name: node for node in drawing.nodes}
    assert at["api"].x < at["pricing"].x < at["orders"].x
    assert at["worker"].x == at["jobs"].x, "the members of a cycle share a column"
    assert drawing.grid_top is not None and at["loner"].y >= drawing.grid_top, "no edge: the grid below"
    assert {(e.source, e.target, e.mode) for e in drawing.edges} == {
        (arn("api"), arn("pricing"), "sync"),
        (arn("pricing"), arn("orders"), "data"),
        (arn("jobs"), arn("worker"), "poll"),
        (arn("worker"), arn("jobs"), "async"),
    }
    assert _boxes_overlap(drawing) == []
    assert all(n.x + BOX_WIDTH <= drawing.width and n.y + BOX_HEIGHT <= drawing.height for n in drawing.nodes)


def test_edges_merge_by_mode_and_say_when_only_a_permission_shows_them() -> None:
    graph = GraphDocument().workload("shop", ["api", "pricing"])
    graph.edge("api", "pricing", kind="invoke").edge("api", "pricing", kind="destination")
    graph.edge("api", "pricing", mode="async", kind="send")
    graph.edges[-1]["via"] = "configuration"
    drawing = _draw(graph.as_dict(), "shop")
    by_mode = {edge.mode: edge for edge in drawing.edges}
    assert set(by_mode) == {"sync", "async"}
    assert by_mode["sync"].kinds == ("destination", "invoke") and "(permission only)" in by_mode["sync"].title
    assert "(permission only)" not in by_mode["async"].title
    assert by_mode["sync"].path != by_mode["async"].path, "parallel arrows of two modes are drawn apart"


def test_the_same_graph_in_any_order_gives_the_same_drawing() -> None:
    graph = GraphDocument().workload("shop", [f"f{i}" for i in range(12)])
    for i in range(11):
        graph.edge(f"f{i}", f"f{(i * 5 + 3) % 12}", mode=("sync", "async", "data")[i % 3])
    document = graph.as_dict()
    shuffled = {key: list(value) for key, value in document.items()}
    rng = random.Random(7)
    for items in shuffled.values():
        rng.shuffle(items)
    shuffled["workloads"][0] = {**shuffled["workloads"][0], "nodes": sorted(document["workloads"][0]["nodes"])[::-1]}
    assert _draw(document, "shop") == _draw(shuffled, "shop")


def test_a_big_workload_draws_its_failing_resources_their_neighbours_and_bounded_stubs() -> None:
    members = [f"fn{i:03}" for i in range(MAX_NODES + 30)]
    graph = GraphDocument().workload("big", members).workload("other", [f"o{i}" for i in range(MAX_FOREIGN + 5)])
    for i in range(len(members) - 1):
        graph.edge(members[i], members[i + 1])
    for i in range(MAX_FOREIGN + 5):
        graph.edge("fn010", f"o{i}", mode="async")  # the failing function calls into another workload
    findings = [on(arn("fn010"), Status.FAILED), on(arn("fn050"), Status.FAILED)]
    drawing = _draw(graph.as_dict(), "big", findings)
    drawn = {node.name for node in drawing.nodes if node.role == "member"}
    assert drawn == {"fn009", "fn010", "fn011", "fn049", "fn050", "fn051"}
    assert (drawing.members, drawing.left_out) == (MAX_NODES + 30, MAX_NODES + 24)
    stubs = [node for node in drawing.nodes if node.role == "foreign"]
    assert len(stubs) == MAX_FOREIGN and {node.workload_name for node in stubs} == {"other"}
    assert drawing.crossing_left_out == 5 and drawing.crossing == MAX_FOREIGN
    failing = {node.name for node in drawing.nodes if node.failing}
    assert failing == {"fn010", "fn050"}
    assert all(node.css_class == "node member failing" for node in drawing.nodes if node.name in failing)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=14),
    pairs=st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13), st.sampled_from(["sync", "async", "poll"]))),
)
def test_any_workload_is_drawn_without_overlapping_boxes_inside_its_canvas(
    size: int, pairs: list[tuple[int, int, str]]
) -> None:
    names = [f"r{i}" for i in range(size)]
    graph = GraphDocument().workload("w", names)
    for source, target, mode in pairs:
        if source < size and target < size:
            graph.edge(names[source], names[target], mode=mode)
    drawing = _draw(graph.as_dict(), "w")
    assert sorted(node.name for node in drawing.nodes) == sorted(names)
    assert _boxes_overlap(drawing) == []
    assert all(n.x >= 0 and n.x + BOX_WIDTH <= drawing.width for n in drawing.nodes)
    assert all(n.y >= 0 and n.y + BOX_HEIGHT <= drawing.height for n in drawing.nodes)
    placed = {node.id for node in drawing.nodes}
    assert all(edge.source in placed and edge.target in placed for edge in drawing.edges)
