"""The graph as `relaudit graph` prints it: JSON (the contract), Graphviz DOT or Mermaid."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relaudit.graph.build import AccountGraph
    from relaudit.graph.workloads import Workload

# DOT edge styles by mode: the caller waits (solid), fire and forget (dashed), polled (dotted), data (bold).
_DOT_STYLE = {"sync": "solid", "async": "dashed", "poll": "dotted", "data": "bold"}
_MERMAID_ARROW = {"sync": "-->", "async": "-.->", "poll": "-.->", "data": "==>"}


def as_dict(graphs: list[tuple[AccountGraph, list[Workload]]]) -> dict[str, Any]:
    """``{"nodes": [...], "edges": [...], "workloads": [...]}`` over every account's graph."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    workloads: list[dict[str, Any]] = []
    for account, found in graphs:
        for node in account.nodes():
            nodes.append(
                {
                    "id": node.arn,
                    "type": node.type,
                    "name": node.name,
                    "region": node.region,
                    "account_id": node.account_id,
                    "workload": account.graph.nodes[node.arn].get("workload"),
                }
            )
        for source, target, kind, data in account.edges():
            edges.append({"source": source, "target": target, "kind": kind, "mode": data["mode"], "via": data["via"]})
        workloads.extend({"id": w.id, "name": w.name, "source": w.source, "nodes": list(w.nodes)} for w in found)
    return {"nodes": nodes, "edges": edges, "workloads": workloads}


def to_json(graphs: list[tuple[AccountGraph, list[Workload]]]) -> str:
    """The JSON document."""
    return json.dumps(as_dict(graphs), indent=2)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graphs: list[tuple[AccountGraph, list[Workload]]]) -> str:
    """A Graphviz digraph: one cluster per workload, edges styled by mode and labelled by kind."""
    data = as_dict(graphs)
    lines = ["digraph relaudit {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    names = {n["id"]: f"{n['name']}\\n{n['type']}" for n in data["nodes"]}
    placed: set[str] = set()
    for index, workload in enumerate(data["workloads"]):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_quote(workload['name'] + ' (' + workload['source'] + ')')};")
        for arn in workload["nodes"]:
            lines.append(f"    {_quote(arn)} [label={_quote(names[arn])}];")
            placed.add(arn)
        lines.append("  }")
    for node in data["nodes"]:
        if node["id"] not in placed:
            lines.append(f"  {_quote(node['id'])} [label={_quote(names[node['id']])}, style=dashed];")
    for edge in data["edges"]:
        style = _DOT_STYLE[edge["mode"]]
        label = edge["kind"] + (" (permission)" if edge["via"] == "permission" else "")
        lines.append(f"  {_quote(edge['source'])} -> {_quote(edge['target'])} [label={_quote(label)}, style={style}];")
    lines.append("}")
    return "\n".join(lines)


def _mermaid_label(text: str) -> str:
    return re.sub(r'["\[\]{}()<>|]', " ", text)


def to_mermaid(graphs: list[tuple[AccountGraph, list[Workload]]]) -> str:
    """A Mermaid flowchart: one subgraph per workload; arrows by mode (sync solid, async and poll
    dotted, data thick)."""
    data = as_dict(graphs)
    ids = {n["id"]: f"n{i}" for i, n in enumerate(data["nodes"])}
    labels = {n["id"]: _mermaid_label(f"{n['name']} ({n['type'].removeprefix('AWS::')})") for n in data["nodes"]}
    lines = ["flowchart LR"]
    placed: set[str] = set()
    for index, workload in enumerate(data["workloads"]):
        lines.append(f'  subgraph w{index}["{_mermaid_label(workload["name"])}"]')
        for arn in workload["nodes"]:
            lines.append(f'    {ids[arn]}["{labels[arn]}"]')
            placed.add(arn)
        lines.append("  end")
    lines.extend(f'  {ids[n["id"]]}["{labels[n["id"]]}"]' for n in data["nodes"] if n["id"] not in placed)
    for edge in data["edges"]:
        label = _mermaid_label(edge["mode"] + " " + edge["kind"])
        lines.append(f"  {ids[edge['source']]} {_MERMAID_ARROW[edge['mode']]}|{label}| {ids[edge['target']]}")
    return "\n".join(lines)


FORMATS = {"json": to_json, "dot": to_dot, "mermaid": to_mermaid}
