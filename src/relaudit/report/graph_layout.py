"""Where each resource of a workload's drawing goes: a deterministic layered layout (networkx), with
the edges' SVG paths, bounded to :data:`MAX_NODES` resources per drawing.

Layers are the topological generations of the drawing's condensation: a resource sits one column
right of the furthest resource that calls, feeds or writes to it, and the members of a cycle (a
function that re-enqueues into its own queue) share a column; a resource nothing points at moves
right, next to the nearest thing it points at (so a stub of another workload sits by its target).
Within a column, resources are ordered by the mean row of what points at them (one barycentre sweep,
which removes most crossings of the small graphs a workload has), then by name. An edge that still
spans several columns runs along the free lane between two rows, never through a box. Resources
with no edge in the drawing go in a grid below.
Nothing depends on dict or set iteration order: the same graph gives the same drawing, byte for byte.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import networkx as nx

from relaudit.report.scorecards import ResourceVerdicts, workload_key

if TYPE_CHECKING:
    from collections.abc import Mapping

    from relaudit.report.scorecards import WorkloadKey

# A drawing of more resources than this is unreadable on a page (and slow to lay out): a bigger
# workload draws its failing resources and their neighbours, and says how many it left out.
MAX_NODES = 60
# Resources of other workloads (or outside the inventory) drawn as stubs at the drawing's edge.
MAX_FOREIGN = 12
BOX_WIDTH, BOX_HEIGHT = 176, 40
GAP_X, GAP_Y = 64, 18
MARGIN_X, MARGIN_Y = 44, 16  # room for a same-column edge bulging left of the first column
GRID_COLUMNS = 4  # the unconnected resources' grid, at least this wide
GRID_LABEL = 26  # room above that grid for its caption
NAME_CHARS, SUBTITLE_CHARS = 22, 28  # what fits a box at 12 and 10 px

Role = Literal["member", "foreign", "outside"]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class PlacedNode:
    """A resource's box: ``role`` is ``member`` (of the drawn workload), ``foreign`` (of another
    workload) or ``outside`` (in no workload: an endpoint outside the inventory)."""

    id: str
    name: str
    type: str
    x: float
    y: float
    role: Role
    workload_name: str | None
    verdicts: ResourceVerdicts = field(default_factory=ResourceVerdicts)

    @property
    def failing(self) -> bool:
        """A FAILED finding is on this resource."""
        return bool(self.verdicts.failed)

    @property
    def css_class(self) -> str:
        """``node`` plus the role and ``failing`` or ``unknown`` (what the page and tests select on)."""
        mark = " failing" if self.failing else " unknown" if self.verdicts.unknown else ""
        return f"node {self.role}{mark}"

    @property
    def label(self) -> str:
        """The name, clipped to fit the box."""
        return _clip(self.name, NAME_CHARS)

    @property
    def subtitle(self) -> str:
        """The second line: the type for a member, where it lives for the others."""
        if self.role == "member":
            text = self.type.removeprefix("AWS::")
        elif self.role == "foreign":
            text = f"in {self.workload_name}"
        else:
            text = "in no workload"
        return _clip(text, SUBTITLE_CHARS)

    @property
    def title(self) -> str:
        """The tooltip: the ARN, type, workload, and the checks that failed it (or could not judge it)."""
        lines = [self.name, f"{self.type} · {self.id}"]
        if self.role != "member":
            lines.append(f"workload: {self.workload_name or 'none'}")
        if self.verdicts.failed:
            suppressed = set(self.verdicts.suppressed)
            ids = (f"{c} (suppressed)" if c in suppressed else c for c in self.verdicts.failed)
            lines.append("FAILED: " + ", ".join(ids))
        if self.verdicts.unknown:
            lines.append("UNKNOWN: " + ", ".join(self.verdicts.unknown))
        return "\n".join(lines)


@dataclass(frozen=True)
class PlacedEdge:
    """One drawn arrow: the interactions of one mode from ``source`` to ``target``, merged."""

    source: str
    target: str
    mode: str
    kinds: tuple[str, ...]
    via: tuple[str, ...]
    path: str  # the SVG path's d attribute
    crossing: bool  # one end is in another workload (or none)

    @property
    def title(self) -> str:
        """The tooltip: mode, kinds, and whether only a permission says so."""
        how = " (permission only)" if self.via == ("permission",) else ""
        return f"{self.mode}: {', '.join(self.kinds)}{how}"


@dataclass(frozen=True)
class Drawing:
    """One workload's picture: boxes, arrows, size, and what the bounds left out."""

    index: int
    key: WorkloadKey
    name: str
    source: str
    width: int
    height: int
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]
    members: int  # the workload's resources
    left_out: int  # of those, not drawn (over MAX_NODES)
    crossing_left_out: int  # edges to other workloads not drawn (over MAX_FOREIGN)
    grid_top: float | None  # where the unconnected resources' grid starts (None: no such resource)

    @property
    def drawn_members(self) -> int:
        """The workload's resources in the drawing."""
        return self.members - self.left_out

    @property
    def crossing(self) -> int:
        """Drawn edges with an end in another workload."""
        return sum(edge.crossing for edge in self.edges)


@dataclass
class GraphIndex:
    """The graph document (`relaudit graph` JSON) indexed once for every workload's drawing."""

    nodes: dict[str, Mapping[str, Any]]
    edges_of: dict[str, list[Mapping[str, Any]]]
    workload_names: dict[WorkloadKey, str]

    @classmethod
    def of(cls, graph: Mapping[str, Any]) -> GraphIndex:
        """Index ``graph``'s nodes, each node's edges (in and out) and the workloads' names."""
        nodes = {node["id"]: node for node in graph["nodes"]}
        edges_of: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for edge in graph["edges"]:
            edges_of[edge["source"]].append(edge)
            if edge["target"] != edge["source"]:
                edges_of[edge["target"]].append(edge)
        names = {workload_key(workload, nodes): str(workload["name"]) for workload in graph["workloads"]}
        return cls(nodes, edges_of, names)

    def workload_of(self, arn: str) -> WorkloadKey | None:
        """The node's workload key, None when it has none (or is no node)."""
        node = self.nodes.get(arn)
        if node is None or not node.get("workload"):
            return None
        return (str(node["account_id"]), str(node["workload"]))

    def neighbours(self, arn: str) -> set[str]:
        """Nodes one edge away, either direction."""
        return {e["target"] if e["source"] == arn else e["source"] for e in self.edges_of.get(arn, [])}


def _capped(members: list[str], verdicts: Mapping[str, ResourceVerdicts], index: GraphIndex) -> list[str]:
    """The members a too-big workload draws: its failing ones, then their neighbours in it, by id."""
    if len(members) <= MAX_NODES:
        return members
    inside = set(members)
    failing = [arn for arn in members if arn in verdicts and verdicts[arn].failed]
    near = sorted({n for arn in failing for n in index.neighbours(arn) if n in inside} - set(failing))
    return (failing + near)[:MAX_NODES]


@dataclass
class _Edges:
    """The drawing's edges merged by (source, target, mode), and its foreign endpoints."""

    merged: dict[tuple[str, str, str], tuple[set[str], set[str]]] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)
    crossing_left_out: int = 0


def _collect_edges(chosen: list[str], members: set[str], index: GraphIndex) -> _Edges:
    drawn = set(chosen)
    found = _Edges()
    outside = sorted({n for arn in chosen for n in index.neighbours(arn) if n not in members})
    kept = set(outside[:MAX_FOREIGN])
    found.foreign = outside[:MAX_FOREIGN]
    seen: set[int] = set()
    for arn in chosen:
        for edge in index.edges_of.get(arn, []):
            if id(edge) in seen:
                continue
            seen.add(id(edge))
            source, target = edge["source"], edge["target"]
            other = target if source == arn else source
            if other not in drawn and other not in kept:
                if other not in members:
                    found.crossing_left_out += 1  # a foreign endpoint past MAX_FOREIGN
                continue  # (or a member the cap left out: counted in left_out)
            kinds, vias = found.merged.setdefault((source, target, str(edge["mode"])), (set(), set()))
            kinds.add(str(edge["kind"]))
            vias.add(str(edge["via"]))
    return found


def _layers(graph: nx.DiGraph[str]) -> dict[str, int]:
    """Each node's column: the topological generation of its strongly connected component."""
    condensed = nx.condensation(graph)
    mapping: dict[str, int] = condensed.graph["mapping"]
    generation = {}
    for depth, components in enumerate(nx.topological_generations(condensed)):
        for component in components:
            generation[component] = depth
    layers = {node: generation[mapping[node]] for node in graph.nodes}
    for node in sorted(graph.nodes):
        after = [layers[s] for s in graph.successors(node) if s != node]
        if graph.in_degree(node) == 0 and after:
            layers[node] = max(layers[node], min(after) - 1)  # still left of every successor
    return layers


def _rows(graph: nx.DiGraph[str], layers: dict[str, int], names: Mapping[str, str]) -> dict[str, int]:
    """Each node's row in its column (barycentre of its predecessors' rows, then name, then id)."""
    rows: dict[str, int] = {}
    by_layer: dict[int, list[str]] = defaultdict(list)
    for node, layer in layers.items():
        by_layer[layer].append(node)
    for layer in sorted(by_layer):

        def key(node: str, layer: int = layer) -> tuple[float, str, str]:
            before = [rows[p] for p in graph.predecessors(node) if layers[p] < layer]
            centre = sum(before) / len(before) if before else float("inf")
            return (centre, names[node], node)

        for row, node in enumerate(sorted(by_layer[layer], key=key)):
            rows[node] = row
    return rows


def _point(x: float, y: float) -> str:
    return f"{_number(x)},{_number(y)}"


def _curve(*points: tuple[float, float]) -> str:
    """An SVG path: move to the first point, then one cubic Bezier through the other three."""
    start, *controls = (_point(x, y) for x, y in points)
    return f"M{start} C{' '.join(controls)}"


def _lane(mid_s: float, mid_t: float) -> float:
    """The y of the gap between two rows nearest both ends: no box is ever there, in any column."""
    step = BOX_HEIGHT + GAP_Y
    boundary = round(((mid_s + mid_t) / 2 - MARGIN_Y + GAP_Y / 2) / step)
    return MARGIN_Y + boundary * step - GAP_Y / 2


def _number(value: float) -> str:
    """One decimal at most: "12", "12.5" (short, and the same text for the same layout)."""
    return f"{value:.1f}".removesuffix(".0")


def _path(source: PlacedNode, target: PlacedNode, same_column: bool, offset: float) -> str:
    """The arrow's path: a self-loop; a bulge beside the column (down on the right, up on the left,
    so two opposite arrows of a cycle do not overlap); else a curve left to right."""
    mid_s, mid_t = source.y + BOX_HEIGHT / 2 + offset, target.y + BOX_HEIGHT / 2 + offset
    if source.id == target.id:
        x, y = source.x + BOX_WIDTH, source.y
        return _curve((x, y + 10), (x + 34, y - 12), (x + 34, y + BOX_HEIGHT + 12), (x, y + BOX_HEIGHT - 10))
    if same_column:
        rows_apart = abs(target.y - source.y) / (BOX_HEIGHT + GAP_Y)
        down = target.y > source.y
        x = source.x + BOX_WIDTH if down else source.x
        bulge = min(GAP_X - 8, 26 + 8 * rows_apart) * (1 if down else -1)
        return _curve((x, mid_s), (x + bulge, mid_s), (x + bulge, mid_t), (x, mid_t))
    x1, x2 = source.x + BOX_WIDTH, target.x
    if x2 - x1 <= GAP_X:  # the next column: one curve across the gap
        pull = max(24.0, (x2 - x1) / 2)
        return _curve((x1, mid_s), (x1 + pull, mid_s), (x2 - pull, mid_t), (x2, mid_t))
    lane, bend = _lane(mid_s, mid_t), GAP_X / 2  # over columns between: down the gap, along the lane
    return (
        f"M{_point(x1, mid_s)} C{_point(x1 + bend / 2, mid_s)} {_point(x1 + bend / 2, lane)} {_point(x1 + bend, lane)}"
        f" L{_point(x2 - bend, lane)} C{_point(x2 - bend / 2, lane)} {_point(x2 - bend / 2, mid_t)} {_point(x2, mid_t)}"
    )


def _placed(
    arn: str, x: float, y: float, members: set[str], index: GraphIndex, verdicts: Mapping[str, ResourceVerdicts]
) -> PlacedNode:
    node = index.nodes.get(arn, {})
    key = index.workload_of(arn)
    role: Role = "member" if arn in members else "foreign" if key is not None else "outside"
    return PlacedNode(
        id=arn,
        name=str(node.get("name") or arn),
        type=str(node.get("type") or ""),
        x=x,
        y=y,
        role=role,
        workload_name=index.workload_names.get(key) if key is not None else None,
        verdicts=verdicts.get(arn, ResourceVerdicts()),
    )


def layout_workload(
    index: GraphIndex,
    workload: Mapping[str, Any],
    key: WorkloadKey,
    verdicts: Mapping[str, ResourceVerdicts],
    number: int = 0,
) -> Drawing:
    """Lay out ``workload`` (an entry of the graph document's ``workloads``).

    Args:
        index: The whole graph, indexed (edges leaving the workload end at stubs of their endpoints).
        workload: The workload to draw.
        key: Its (account, id).
        verdicts: ARN -> the checks that failed it or could not judge it (marks the boxes).
        number: The drawing's number on the page (its SVG ids are unique by it).
    """
    members = sorted(workload["nodes"])
    member_set = set(members)
    chosen = _capped(members, verdicts, index)
    edges = _collect_edges(chosen, member_set, index)
    names = {arn: str(index.nodes.get(arn, {}).get("name") or arn) for arn in (*chosen, *edges.foreign)}
    graph: nx.DiGraph[str] = nx.DiGraph()
    for source, target, _ in edges.merged:
        graph.add_edge(source, target)
    connected = sorted(graph.nodes)
    isolated = sorted((arn for arn in (*chosen, *edges.foreign) if arn not in graph), key=lambda a: (names[a], a))
    layers = _layers(graph) if connected else {}
    rows = _rows(graph, layers, names) if connected else {}
    step_x, step_y = BOX_WIDTH + GAP_X, BOX_HEIGHT + GAP_Y
    placed = {
        arn: _placed(arn, MARGIN_X + layers[arn] * step_x, MARGIN_Y + rows[arn] * step_y, member_set, index, verdicts)
        for arn in connected
    }
    columns = max(layers.values(), default=-1) + 1
    height = MARGIN_Y + (max(rows.values()) * step_y + BOX_HEIGHT if connected else 0)
    grid_top = None
    if isolated:
        grid_top = height + (GRID_LABEL if connected else 0)
        across = max(GRID_COLUMNS, columns)
        for i, arn in enumerate(isolated):
            x, y = MARGIN_X + (i % across) * step_x, grid_top + (i // across) * step_y
            placed[arn] = _placed(arn, x, y, member_set, index, verdicts)
        columns = max(columns, min(across, len(isolated)))
        height = grid_top + ((len(isolated) - 1) // across) * step_y + BOX_HEIGHT
    drawn_edges = []
    by_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, target, mode in sorted(edges.merged):
        by_pair[(source, target)].append(mode)
    for (source, target), modes in sorted(by_pair.items()):
        for i, mode in enumerate(modes):
            offset = (i - (len(modes) - 1) / 2) * 6  # parallel arrows of different modes side by side
            same = layers[source] == layers[target]
            kinds, vias = edges.merged[(source, target, mode)]
            crossing = not (source in member_set and target in member_set)
            path = _path(placed[source], placed[target], same, offset)
            merged = (tuple(sorted(kinds)), tuple(sorted(vias)))
            drawn_edges.append(PlacedEdge(source, target, mode, *merged, path, crossing))
    return Drawing(
        index=number,
        key=key,
        name=str(workload["name"]),
        source=str(workload["source"]),
        width=int(2 * MARGIN_X + max(columns, 1) * step_x - GAP_X),
        height=int(height + MARGIN_Y),
        nodes=tuple(placed[arn] for arn in sorted(placed)),
        edges=tuple(drawn_edges),
        members=len(members),
        left_out=len(members) - len(chosen),
        crossing_left_out=edges.crossing_left_out,
        grid_top=grid_top,
    )
