"""Per-node graph documents: what the graph checks read (``Graph.*``), derived once per account.

Every derivation is linear in nodes + edges (breadth-first searches, strongly connected
components, a longest-path pass over the condensation), except the shortest cycle through each
node of a cycle, which is bounded by the size of its strongly connected component.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import networkx as nx

from relaudit.graph.facts import AT_LEAST_ONCE_KINDS, FAILURE_KINDS, LOSSY_KINDS
from relaudit.inventory import shapes

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.graph.build import AccountGraph

COMPUTE_TYPES = frozenset({"AWS::Lambda::Function", "AWS::StepFunctions::StateMachine"})
# Powertools' Idempotency utility keeps its records in a table the function writes; its examples
# and most users name it so.
IDEMPOTENCY_MARKERS = ("idempoten",)

EdgeKey = tuple[str, str, str]
# Strongly connected components up to this size get each node's shortest cycle (a search per node);
# larger ones a walk through one root (two searches), keeping the graph's cost linear.
SHORTEST_CYCLE_LIMIT = 64
SDK_ATTEMPTS = 3  # the AWS SDKs' standard retry mode: 3 attempts

# What node_document writes, for tests/unit/test_field_paths.py to walk graph checks' fields
# through (as a collector's DOCUMENT); the graph tests hold node_document to exactly these fields.
_ARNS = shapes.ListOf(shapes.ANY)
_EDGE = shapes.fields(
    Peer=shapes.ANY,
    PeerType=shapes.ANY,
    Kind=shapes.ANY,
    Mode=shapes.ANY,
    Via=shapes.ANY,
    Count=shapes.ANY,
    SameWorkload=shapes.ANY,
    PeerTimeout=shapes.ANY,
    BurstLimit=shapes.ANY,
)
DOCUMENT = shapes.fields(
    Graph=shapes.fields(
        Arn=shapes.ANY,
        Type=shapes.ANY,
        Workload=shapes.ANY,
        EntryPoint=shapes.ANY,
        Timeout=shapes.ANY,
        ReservedConcurrency=shapes.ANY,
        In=shapes.ListOf(shapes.fields(_EDGE, AtLeastOnce=shapes.ANY)),
        Out=shapes.ListOf(_EDGE),
        SyncChain=_ARNS,
        ReachedAsync=shapes.ANY,
        UncapturedAsyncPath=_ARNS,
        Loop=_ARNS,
        RetryAmplification=shapes.ANY,
        RetryPath=_ARNS,
        Writers=_ARNS,
        WriterWorkloads=shapes.ListOf(shapes.ANY),
        DirectEntryPoints=_ARNS,
        IdempotencyTables=_ARNS,
        BroadGrants=shapes.ListOf(shapes.ANY),
    )
)


@dataclass(frozen=True)
class Hop:
    """One edge of a path, for reasons: how the next resource is reached."""

    kind: str
    mode: str
    via: str
    burst: int | None = None  # an API integration's largest stage burst limit
    stage: str | None = None  # the stage that sets it


class Derived:
    """The graph-wide derivations every node's document draws on."""

    def __init__(self, account: AccountGraph) -> None:
        self.account = account
        graph = account.graph
        self.flow: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        self.flow.add_nodes_from(graph.nodes)
        for s, t, k, d in graph.edges(keys=True, data=True):
            if k not in FAILURE_KINDS and d["mode"] != "data":
                self.flow.add_edge(s, t, key=k, **d)
        self.entry_points = sorted(n for n in self.flow if self.flow.in_degree(n) == 0 and self.flow.out_degree(n) > 0)
        self.entry_set = set(self.entry_points)
        self.longest = self._longest_sync()
        self.async_reached, self.uncaptured = self._async_paths()
        self.loops = self._loops()
        self.retries = self._retry_amplification()
        self.tables = {
            key: arn
            for arn, data in graph.nodes(data=True)
            if data["node"].type == "AWS::DynamoDB::Table"
            for key in (arn, data["node"].name)
        }

    def capture(self, source: str, target: str, kind: str, data: dict[str, Any]) -> bool:
        """Whether a lossy hop's failures go somewhere: its own DLQ or destination, the Lambda
        function's async DLQ or on-failure destination it invokes, or the polled queue's redrive."""
        if data.get("capture"):
            return True
        if kind == "poll":
            return bool(self.account.node(source).attrs.get("Redrive"))
        return bool(self.account.node(target).attrs.get("AsyncFailureCapture"))

    def _longest_sync(self) -> dict[str, list[str]]:
        """For every node, the longest synchronous chain starting at it (strongly connected
        components taken as one step, entered at their smallest ARN)."""
        sync: nx.DiGraph[str] = nx.DiGraph()
        sync.add_nodes_from(self.flow)
        sync.add_edges_from((s, t) for s, t, d in self.flow.edges(data=True) if d["mode"] == "sync")
        condensed = nx.condensation(sync)
        members = {c: min(condensed.nodes[c]["members"]) for c in condensed}
        best: dict[int, list[str]] = {}
        for component in reversed(list(nx.topological_sort(condensed))):
            tails = [best[s] for s in sorted(condensed.successors(component), key=lambda c: members[c])]
            longest_tail = max(tails, key=len, default=[])
            best[component] = [members[component], *longest_tail]
        mapping = condensed.graph["mapping"]
        return {node: [node, *best[mapping[node]][1:]] for node in sync}

    def _search(self, skip_captured: bool) -> dict[tuple[str, bool], tuple[str, bool] | None]:
        """Breadth-first over (node, a lossy hop seen) from every entry point; with
        ``skip_captured`` a lossy hop whose failures are captured ends the path."""
        parent: dict[tuple[str, bool], tuple[str, bool] | None] = {(e, False): None for e in self.entry_points}
        queue = deque(parent)
        while queue:
            state = queue.popleft()
            node, lossy_seen = state
            for _, target, kind, data in sorted(self.flow.out_edges(node, keys=True, data=True), key=lambda e: e[1:3]):
                lossy = kind in LOSSY_KINDS
                if lossy and skip_captured and self.capture(node, target, kind, data):
                    continue
                following = (target, lossy_seen or lossy)
                if following not in parent:
                    parent[following] = state
                    queue.append(following)
        return parent

    def _async_paths(self) -> tuple[set[str], dict[str, list[str]]]:
        reached = {node for node, lossy in self._search(skip_captured=False) if lossy}
        parent = self._search(skip_captured=True)
        uncaptured: dict[str, list[str]] = {}
        for node, lossy in parent:
            if not lossy:
                continue
            path: list[str] = []
            state: tuple[str, bool] | None = (node, True)
            while state is not None:
                path.append(state[0])
                state = parent[state]
            uncaptured[node] = path[::-1]
        return reached, uncaptured

    def attempts(self, source: str, target: str, kind: str, data: dict[str, Any]) -> int:
        """How many times one event may be delivered over a hop: the polled queue's maxReceiveCount,
        a stream mapping's retries + 1, Lambda's asynchronous retries + 1 into a function, a Step
        Functions task's retriers (its largest MaxAttempts + 1), the SDKs' 3 attempts on a
        synchronous call a role permits; 1 for the rest, and for unbounded retries (no redrive, a
        stream retried until its records expire), which other checks judge."""
        if kind == "poll":
            if data.get("attempts"):
                return int(data["attempts"])
            count = self.account.node(source).attrs.get("MaxReceiveCount")
            return int(count) if isinstance(count, int) and count > 0 else 1
        if kind in AT_LEAST_ONCE_KINDS:
            return int(self.account.node(target).attrs.get("AsyncAttempts") or 1)
        if data.get("attempts"):
            return int(data["attempts"])
        if data["mode"] == "sync" and data["via"] == "permission":
            return SDK_ATTEMPTS
        return 1

    def _retry_amplification(self) -> dict[str, tuple[int, list[str]]]:
        """For every node an entry point reaches, the largest product of attempts over a path to it
        and that path (a strongly connected component's inner edges left out: the loop check's)."""
        condensed = nx.condensation(nx.DiGraph(self.flow))
        component = condensed.graph["mapping"]
        order = {c: i for i, c in enumerate(nx.topological_sort(condensed))}
        best: dict[str, tuple[int, str | None]] = dict.fromkeys(self.entry_points, (1, None))
        for node in sorted(self.flow, key=lambda n: (order[component[n]], n)):
            for source, _, kind, data in self.flow.in_edges(node, keys=True, data=True):
                if source not in best or component[source] == component[node]:
                    continue
                product = best[source][0] * self.attempts(source, node, kind, data)
                if node not in best or product > best[node][0]:
                    best[node] = (product, source)
        found: dict[str, tuple[int, list[str]]] = {}
        for node, (product, _) in best.items():
            path: list[str] = []
            step: str | None = node
            while step is not None:
                path.append(step)
                step = best[step][1]
            found[node] = (product, path[::-1])
        return found

    def _loops(self) -> dict[str, list[str]]:
        """The shortest cycle through each node on one: flow edges plus writes into a store
        (a function writing the table whose stream triggers it loops too)."""
        loop_graph: nx.DiGraph[str] = nx.DiGraph()
        loop_graph.add_edges_from(self.flow.edges())
        loop_graph.add_edges_from((s, t) for s, t, k in self.account.graph.edges(keys=True) if k == "write")
        cycles: dict[str, list[str]] = {}
        for component in nx.strongly_connected_components(loop_graph):
            if len(component) == 1:
                (only,) = component
                if loop_graph.has_edge(only, only):
                    cycles[only] = [only, only]
                continue
            within = loop_graph.subgraph(component)
            if len(component) <= SHORTEST_CYCLE_LIMIT:
                for node in sorted(component):
                    cycles[node] = _shortest_cycle(within, node)
            else:
                cycles.update(_cycles_through_root(within))
        return cycles

    def hops(self, path: list[str]) -> list[Hop]:
        """The edge taken between each pair of a path (sync first, configuration over permission)."""
        found = []
        for source, target in pairwise(path):
            options = self.account.graph.get_edge_data(source, target) or {}
            ranked = sorted(options.items(), key=lambda kv: (kv[1]["via"] != "configuration", kv[0]))
            kind, data = ranked[0] if ranked else ("?", {"mode": "?", "via": "?"})
            burst, stage = data.get("burst"), data.get("burst_stage")
            found.append(Hop(str(kind), data["mode"], data["via"], burst if isinstance(burst, int) else None, stage))
        return found

    def describe(self, path: list[str]) -> str:
        """A path for a finding's reason: names joined by their hops, permission-only hops said so."""
        if not path:
            return ""
        parts = [self.account.node(path[0]).name]
        for hop, arn in zip(self.hops(path), path[1:], strict=True):
            via = ", permission only" if hop.via == "permission" else ""
            admits = f", burst {hop.burst} on stage {hop.stage}" if hop.burst is not None else ""
            parts.append(f"-[{hop.mode} {hop.kind}{via}{admits}]-> {self.account.node(arn).name}")
        return " ".join(parts)


def _parents(graph: nx.DiGraph[str], root: str, reverse: bool) -> dict[str, str]:
    """Breadth-first tree from ``root`` (following edges backwards with ``reverse``): node -> the
    node it was reached from."""
    parent: dict[str, str] = {}
    queue = deque([root])
    step = graph.predecessors if reverse else graph.successors
    while queue:
        node = queue.popleft()
        for other in sorted(step(node)):
            if other != root and other not in parent:
                parent[other] = node
                queue.append(other)
    return parent


def _cycles_through_root(graph: nx.DiGraph[str]) -> dict[str, list[str]]:
    """A closed walk through every node of a large strongly connected component, from two
    breadth-first trees: root -> node, then node -> root (not each node's shortest cycle, which
    costs a search per node)."""
    root = min(graph)
    forward, backward = _parents(graph, root, reverse=False), _parents(graph, root, reverse=True)
    cycles = {root: _shortest_cycle(graph, root)}
    for node in graph:
        if node == root:
            continue
        there = [node]
        while there[-1] != root:
            there.append(forward[there[-1]])
        back = [node]
        while back[-1] != root:
            back.append(backward[back[-1]])
        cycles[node] = [*there[::-1], *back[1:]]
    return cycles


def _shortest_cycle(graph: nx.DiGraph[str], start: str) -> list[str]:
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for successor in sorted(graph.successors(node)):
            if successor == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*path[::-1], start]
            if successor not in parent:
                parent[successor] = node
                queue.append(successor)
    return [start, start]


def _peer(derived: Derived, own_workload: Any, peer: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    account = derived.account
    node = account.node(peer)
    return {
        "Peer": peer,
        "PeerType": node.type,
        "Kind": kind,
        "Mode": data["mode"],
        "Via": data["via"],
        "Count": data.get("count", 1),
        "SameWorkload": account.graph.nodes[peer].get("workload") == own_workload,
        "PeerTimeout": node.attrs.get("Timeout"),
        "BurstLimit": data.get("burst"),
    }


def node_document(derived: Derived, arn: str) -> dict[str, Any]:
    """The document a graph check evaluates for one node (see checks/README.md, "Graph checks")."""
    account = derived.account
    graph = account.graph
    node = account.node(arn)
    workload = graph.nodes[arn].get("workload")
    incoming = [_peer(derived, workload, s, k, d) for s, _, k, d in graph.in_edges(arn, keys=True, data=True)]
    outgoing = [_peer(derived, workload, t, k, d) for _, t, k, d in graph.out_edges(arn, keys=True, data=True)]
    for entry in incoming:
        entry["AtLeastOnce"] = entry["Kind"] in AT_LEAST_ONCE_KINDS or entry["Kind"] == "poll"
    incoming.sort(key=lambda e: (e["Peer"], e["Kind"]))
    outgoing.sort(key=lambda e: (e["Peer"], e["Kind"]))
    writers = sorted({e["Peer"] for e in incoming if e["Kind"] == "write"})
    writer_workloads = sorted({str(graph.nodes[w].get("workload")) for w in writers})
    return {
        "Graph": {
            "Arn": arn,
            "Type": node.type,
            "Workload": workload,
            "EntryPoint": arn in derived.entry_set,
            "Timeout": node.attrs.get("Timeout"),
            "ReservedConcurrency": node.attrs.get("ReservedConcurrency"),
            "In": incoming,
            "Out": outgoing,
            "SyncChain": _head_chain(derived, arn),
            "ReachedAsync": arn in derived.async_reached,
            "UncapturedAsyncPath": derived.uncaptured.get(arn),
            "Loop": derived.loops.get(arn),
            "RetryAmplification": derived.retries.get(arn, (None, None))[0],
            "RetryPath": derived.retries.get(arn, (None, None))[1],
            "Writers": writers,
            "WriterWorkloads": writer_workloads,
            "DirectEntryPoints": sorted({e["Peer"] for e in incoming if e["Peer"] in derived.entry_set}),
            "IdempotencyTables": _idempotency_tables(derived, node, outgoing),
            "BroadGrants": graph.nodes[arn].get("broad_grants", []),
        }
    }


def _idempotency_tables(derived: Derived, node: Any, outgoing: list[dict[str, Any]]) -> list[str]:
    """Tables holding the node's idempotency records: a table it writes named like one, or the
    table an ``*IDEMPOTENCY*`` environment variable of the function names (by name or ARN)."""
    account = derived.account
    found = {
        edge["Peer"]
        for edge in outgoing
        if edge["Kind"] == "write" and any(m in account.node(edge["Peer"]).name.lower() for m in IDEMPOTENCY_MARKERS)
    }
    for ref in node.attrs.get("IdempotencyTableRefs") or ():
        table = derived.tables.get(ref)
        if table is not None:
            found.add(table)
    return sorted(found)


def _head_chain(derived: Derived, arn: str) -> list[str] | None:
    """The longest synchronous chain from an entry point in which ``arn`` is the first compute
    resource (the entry point itself, or what an entry point calls synchronously); else None."""
    if arn not in derived.longest:
        return None
    if arn in derived.entry_set:
        return derived.longest[arn]
    callers = sorted(
        s for s, _, d in derived.flow.in_edges(arn, data=True) if d["mode"] == "sync" and s in derived.entry_set
    )
    return [callers[0], *derived.longest[arn]] if callers else None


def documents(account: AccountGraph) -> Iterator[tuple[str, dict[str, Any]]]:
    """(ARN, graph document) for every inventoried node (stubs have no findings), by ARN."""
    derived = Derived(account)
    for node in account.nodes():
        if not node.attrs.get("Stub"):
            yield node.arn, node_document(derived, node.arn)
