"""Assemble one account's graph facts into a networkx graph: aliases resolved, role grants turned
into permission edges, endpoints outside the inventory kept as stub nodes."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import networkx as nx

from relaudit.graph.facts import Edge, Fact, Grant, Member, Mode, Node, RoleUse, Throttle, unqualified

if TYPE_CHECKING:
    from collections.abc import Iterable

# Identity-policy actions that make an edge from the compute resource running the role, by the
# type of resource they act on. lambda:InvokeFunction is a sync edge: RequestResponse is the
# default invocation type, and a role cannot say which type the code uses.
ACTION_EDGES: dict[str, tuple[str, str, Mode]] = {
    "lambda:invokefunction": ("AWS::Lambda::Function", "invoke", "sync"),
    "states:startsyncexecution": ("AWS::StepFunctions::StateMachine", "start-execution", "sync"),
    "states:startexecution": ("AWS::StepFunctions::StateMachine", "start-execution", "async"),
    "sqs:sendmessage": ("AWS::SQS::Queue", "send-message", "async"),
    "sns:publish": ("AWS::SNS::Topic", "publish", "async"),
    "events:putevents": ("AWS::Events::EventBus", "put-events", "async"),
    "dynamodb:putitem": ("AWS::DynamoDB::Table", "write", "data"),
    "dynamodb:updateitem": ("AWS::DynamoDB::Table", "write", "data"),
    "dynamodb:deleteitem": ("AWS::DynamoDB::Table", "write", "data"),
    "dynamodb:batchwriteitem": ("AWS::DynamoDB::Table", "write", "data"),
    "dynamodb:getitem": ("AWS::DynamoDB::Table", "read", "data"),
    "dynamodb:query": ("AWS::DynamoDB::Table", "read", "data"),
    "dynamodb:scan": ("AWS::DynamoDB::Table", "read", "data"),
    "dynamodb:batchgetitem": ("AWS::DynamoDB::Table", "read", "data"),
    "s3:putobject": ("AWS::S3::Bucket", "write", "data"),
    "s3:deleteobject": ("AWS::S3::Bucket", "write", "data"),
    "s3:getobject": ("AWS::S3::Bucket", "read", "data"),
}
# A statement allowing an action on more resources than this (Resource "*" on every function of
# the account, say) says nothing about which one the code calls: it adds no edge, and the compute
# node lists it under BroadGrants instead.
GRANT_FANOUT_LIMIT = 25
# Stub node types, from an ARN's service and resource prefix, for endpoints outside the inventory.
_STUB_TYPES: dict[tuple[str, str], str] = {
    ("lambda", "function"): "AWS::Lambda::Function",
    ("sqs", ""): "AWS::SQS::Queue",
    ("sns", ""): "AWS::SNS::Topic",
    ("events", "event-bus"): "AWS::Events::EventBus",
    ("states", "stateMachine"): "AWS::StepFunctions::StateMachine",
    ("kinesis", "stream"): "AWS::Kinesis::Stream",
    ("dynamodb", "table"): "AWS::DynamoDB::Table",
    ("firehose", "deliverystream"): "AWS::KinesisFirehose::DeliveryStream",
    ("kafka", "cluster"): "AWS::MSK::Cluster",
    ("mq", "broker"): "AWS::AmazonMQ::Broker",
    ("s3", ""): "AWS::S3::Bucket",
}


@dataclass
class AccountGraph:
    """One account's graph: ``graph`` holds ARNs as nodes (attribute ``node``: the Node) and edges
    keyed by kind (attributes ``mode``, ``via``, ``capture``, ``count``, ``attempts``; an API's
    integration edge also ``burst`` and ``burst_stage``: its largest stage burst limit, and where)."""

    graph: nx.MultiDiGraph[str]
    members: list[Member] = field(default_factory=list)

    def node(self, arn: str) -> Node:
        """The Node fact of ``arn``."""
        found: Node = self.graph.nodes[arn]["node"]
        return found

    def nodes(self) -> list[Node]:
        """Every node, sorted by ARN."""
        return [self.graph.nodes[arn]["node"] for arn in sorted(self.graph.nodes)]

    def edges(self) -> list[tuple[str, str, str, dict[str, object]]]:
        """Every edge as (source, target, kind, attributes), sorted."""
        return sorted(((s, t, k, d) for s, t, k, d in self.graph.edges(keys=True, data=True)), key=lambda e: e[:3])


def stub_node(arn: str) -> Node | None:
    """A node for an ARN outside the inventory (its type read from the ARN), or None for an unknown kind."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    service, rest = parts[2], parts[5]
    prefix, _, name = rest.partition("/") if "/" in rest else rest.partition(":")
    resource_type = _STUB_TYPES.get((service, prefix)) or _STUB_TYPES.get((service, ""))
    if resource_type is None:
        return None
    shown = name if _STUB_TYPES.get((service, prefix)) else rest
    return Node(arn, resource_type, shown.split(":")[0] or rest, parts[3], parts[4], (), {"Stub": True})


@lru_cache(maxsize=4096)
def _glob(pattern: str, fold_case: bool) -> re.Pattern[str]:
    """IAM's wildcard matching: ``*`` any run of characters, ``?`` one character."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if fold_case else re.DOTALL)


def _matches_any(patterns: Iterable[str], value: str, fold_case: bool = False) -> bool:
    return any(_glob(p, fold_case).fullmatch(value) for p in patterns)


def _resource_forms(arn: str, resource_type: str) -> tuple[str, ...]:
    """The resource ARNs a call on this node is authorized against (a qualified function, an
    object in a bucket, an index of a table)."""
    if resource_type == "AWS::Lambda::Function":
        return (arn, f"{arn}:x")
    if resource_type == "AWS::S3::Bucket":
        return (f"{arn}/x",)
    if resource_type == "AWS::DynamoDB::Table":
        return (arn, f"{arn}/index/x")
    return (arn,)


def _statement_targets(grant: Grant, action: str, candidates: dict[str, str]) -> set[str]:
    """The candidate ARNs (ARN -> type) a statement covers for ``action``."""
    named = _matches_any(grant.actions, action, fold_case=True)
    if named == grant.not_action:
        return set()
    exact = [r for r in grant.resources if "*" not in r and "?" not in r]
    if not grant.not_resource and len(exact) == len(grant.resources):
        # Looked up, not scanned: most statements name their resources, and a scan per role is quadratic.
        named_arns = {unqualified(r) for r in exact} | {r.split("/", 1)[0] for r in exact if ":s3:::" in r}
        return {arn for arn in named_arns if arn in candidates}
    covered = set()
    for arn, resource_type in candidates.items():
        hit = any(_matches_any(grant.resources, form) for form in _resource_forms(arn, resource_type))
        if hit != grant.not_resource:
            covered.add(arn)
    return covered


def _grant_edges(
    grants: list[Grant], candidates_by_type: dict[str, dict[str, str]]
) -> tuple[list[tuple[str, str, Mode]], list[str]]:
    """Edges (target, kind, mode) a role's statements allow, Allow minus explicit Deny; and the
    actions allowed too broadly to make edges. Conditions are not read (an edge is a permission)."""
    edges: dict[tuple[str, str], Mode] = {}
    broad: list[str] = []
    for action, (resource_type, kind, mode) in ACTION_EDGES.items():
        candidates = candidates_by_type.get(resource_type) or {}
        if not candidates:
            continue
        allowed: set[str] = set()
        for grant in grants:
            if grant.allow:
                allowed |= _statement_targets(grant, action, candidates)
        for grant in grants:
            if not grant.allow and allowed:
                allowed -= _statement_targets(grant, action, candidates)
        if len(allowed) > GRANT_FANOUT_LIMIT:
            broad.append(action)
            continue
        for target in allowed:
            edges[(target, kind)] = mode
    return [(target, kind, mode) for (target, kind), mode in sorted(edges.items())], broad


def _sorted_facts(
    facts: Iterable[Fact],
) -> tuple[dict[str, Node], list[Edge], list[Throttle], dict[str, list[Grant]], list[RoleUse], list[Member]]:
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    throttles: list[Throttle] = []
    grants: dict[str, list[Grant]] = defaultdict(list)
    roles: list[RoleUse] = []
    members: list[Member] = []
    for fact in facts:
        if isinstance(fact, Node):
            nodes.setdefault(fact.arn, fact)
        elif isinstance(fact, Edge):
            edges.append(fact)
        elif isinstance(fact, Throttle):
            throttles.append(fact)
        elif isinstance(fact, Grant):
            grants[fact.role].append(fact)
        elif isinstance(fact, RoleUse):
            roles.append(fact)
        else:
            members.append(fact)
    return nodes, edges, throttles, grants, roles, members


def build(facts: Iterable[Fact]) -> AccountGraph:
    """The graph of one account's facts (linear in facts, plus the wildcard grants' candidates)."""
    nodes, edges, throttles, grants, roles, members = _sorted_facts(facts)
    # Names that say what they name (ARNs, URLs, endpoint host names); bare names are per type.
    alias = {a: arn for arn, n in nodes.items() for a in n.aliases if ":" in a or "/" in a or "." in a}
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()

    def resolve(ref: str) -> str | None:
        arn = unqualified(alias.get(ref, ref))
        if arn not in nodes:
            stub = stub_node(arn)
            if stub is None:
                return None
            nodes[arn] = stub
        if arn not in graph:
            graph.add_node(arn, node=nodes[arn])
        return arn

    for arn in nodes:
        graph.add_node(arn, node=nodes[arn])
    for edge in edges:
        source, target = resolve(edge.source), resolve(edge.target)
        if source and target:
            graph.add_edge(
                source,
                target,
                key=edge.kind,
                mode=edge.mode,
                via=edge.via,
                capture=edge.capture,
                count=edge.count,
                attempts=edge.attempts,
            )
    # The largest burst first, so each integration keeps its largest stage's (ties: the first stage
    # by name); a throttle whose API or function is not in the graph adds nothing.
    for throttle in sorted(throttles, key=lambda t: (-t.burst, t.stage)):
        source, target = unqualified(alias.get(throttle.source, throttle.source)), unqualified(throttle.target)
        if graph.has_edge(source, target, key="integration"):
            data = graph.edges[source, target, "integration"]
            if data.get("burst") is None:
                data.update(burst=throttle.burst, burst_stage=throttle.stage)
    _add_permission_edges(graph, nodes, roles, grants)
    return AccountGraph(graph, members)


def _add_permission_edges(
    graph: nx.MultiDiGraph[str], nodes: dict[str, Node], roles: list[RoleUse], grants: dict[str, list[Grant]]
) -> None:
    """Edges from each compute node to what its role may call; configured edges of the same kind win."""
    candidates: dict[str, dict[str, str]] = defaultdict(dict)
    for arn, node in nodes.items():
        candidates[node.type][arn] = node.type
    resolved: dict[str, tuple[list[tuple[str, str, Mode]], list[str]]] = {}
    for use in roles:
        if use.compute not in graph or use.role not in grants:
            continue
        if use.role not in resolved:
            resolved[use.role] = _grant_edges(grants[use.role], candidates)
        found, broad = resolved[use.role]
        if broad:
            graph.nodes[use.compute]["broad_grants"] = broad
        for target, kind, mode in found:
            if target != use.compute and not graph.has_edge(use.compute, target, key=kind):
                graph.add_edge(
                    use.compute, target, key=kind, mode=mode, via="permission", capture=False, count=1, attempts=None
                )
