"""Group an account's graph into workloads: CloudFormation stacks, then tags, then connected components."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from relaudit.graph.build import AccountGraph


@dataclass(frozen=True)
class Workload:
    """One workload: ``source`` is ``cloudformation``, ``tag`` or ``component``."""

    id: str
    name: str
    source: str
    nodes: tuple[str, ...]


def assign(account: AccountGraph) -> list[Workload]:
    """Workloads of ``account``, each node in at most one; sets the graph's node attribute ``workload``.

    A node a stack names (the root stack, for nested stacks) belongs to that stack; else to the
    workload its tag names (``Member`` facts with source ``tag``); the rest are grouped by the
    weakly connected components of the graph among themselves. Stub nodes (endpoints outside
    the inventory) belong to no workload.
    """
    graph = account.graph
    by_key: dict[tuple[str, str], str] = {}
    for arn in graph.nodes:
        node = account.node(arn)
        for alias in (arn, *node.aliases):
            by_key.setdefault((node.type, alias), arn)
    owner: dict[str, tuple[str, str, str]] = {}
    for source in ("cloudformation", "tag"):
        for member in account.members:
            if member.source != source:
                continue
            found = by_key.get((member.resource_type, member.physical_id)) or (
                member.physical_id if member.physical_id in graph and source == "tag" else None
            )
            if found is not None and found not in owner:
                owner[found] = (member.workload, member.name, source)
    loose = [arn for arn in graph.nodes if arn not in owner and not account.node(arn).attrs.get("Stub")]
    for component in nx.weakly_connected_components(graph.subgraph(loose)):
        first = min(component)
        for arn in component:
            owner[arn] = (f"component:{first}", account.node(first).name, "component")
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for member_arn, key in owner.items():
        grouped.setdefault(key, []).append(member_arn)
        graph.nodes[member_arn]["workload"] = key[0]
    return sorted(
        (Workload(wid, name, source, tuple(sorted(arns))) for (wid, name, source), arns in grouped.items()),
        key=lambda w: w.id,
    )
