"""The blast radius of a resource that is not redundant: who depends on it, and how much that raises
a failing redundancy check's severity.

A redundancy check (``blast_radius: true``: Multi-AZ, failover) says a resource can fail with one
Availability Zone. How much that matters depends on what reaches it: the graph's entry points (APIs,
load balancers, rules, schedules, buckets, streams) whose paths lead to it over synchronous,
asynchronous, polled and data edges (not over failure edges: a DLQ's outage does not stop the path),
and the workloads those belong to. The severity rises one level when an entry point reaches the
resource (or it is one), and one more when entry points of two or more workloads do (an outage
crosses a workload boundary), capped at CRITICAL. A resource nothing reaches keeps the check's
severity and gets no radius.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import networkx as nx

from relaudit.catalog.evaluate import GraphDetail
from relaudit.catalog.findings import record
from relaudit.graph.facts import FAILURE_KINDS
from relaudit.models.check import Severity, Status
from relaudit.models.finding import BlastRadius

if TYPE_CHECKING:
    from collections.abc import Iterable

    from relaudit.catalog.findings import Record
    from relaudit.catalog.loader import CompiledCheck
    from relaudit.graph.build import AccountGraph
    from relaudit.graph.documents import Derived

SHOWN = 5  # entry points and workloads named in a reason (the finding lists them all)
_LEVELS = (Severity.INFORMATIONAL, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


def raised(severity: Severity, steps: int) -> Severity:
    """``severity`` raised ``steps`` levels, capped at CRITICAL (INFORMATIONAL stays: it is no risk)."""
    if severity is Severity.INFORMATIONAL or steps <= 0:
        return severity
    return _LEVELS[min(_LEVELS.index(severity) + steps, len(_LEVELS) - 1)]


class Radii:
    """The dependents of the account's nodes, computed for the nodes asked about."""

    def __init__(self, account: AccountGraph, derived: Derived) -> None:
        graph = account.graph
        self._graph = graph
        self._entry = derived.entry_set
        self._reach: nx.DiGraph[str] = nx.DiGraph()
        self._reach.add_nodes_from(graph.nodes)
        self._reach.add_edges_from((s, t) for s, t, k in graph.edges(keys=True) if k not in FAILURE_KINDS)
        self._names = {arn: account.node(arn).name for arn in graph.nodes}

    def of(self, arn: str) -> tuple[BlastRadius, int] | None:
        """Who depends on ``arn``, and how many workloads its entry points belong to; None when it
        is not in the graph or no entry point reaches it."""
        if arn not in self._reach:
            return None
        dependents = nx.ancestors(self._reach, arn) | {arn}
        entry_points = sorted(n for n in dependents if n in self._entry)
        if not entry_points:
            return None
        entry_workloads = {self._workload(n) for n in entry_points} - {None}
        workloads = sorted(w for w in entry_workloads | {self._workload(arn)} if w)
        return BlastRadius(entry_points=entry_points, workloads=workloads), len(entry_workloads)

    def _workload(self, arn: str) -> str | None:
        workload: str | None = self._graph.nodes[arn].get("workload")
        return workload

    def name(self, arn: str) -> str:
        """A node's name, for reasons."""
        return self._names.get(arn, arn)


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return f"{shown} and {len(items) - SHOWN} more" if len(items) > SHOWN else shown


def with_radius(records: Iterable[Record], radii: Radii, workload_names: dict[str, str]) -> list[Record]:
    """``records`` with each FAILED finding of a redundancy check given its blast radius: its
    severity raised (see the module) and its reason naming who depends on it."""
    variants: dict[tuple[str, Severity], CompiledCheck] = {}
    out: list[Record] = []
    for rec in records:
        account_id, region, _, arn, name, status, check, _, marks = rec
        found = radii.of(arn) if status is Status.FAILED and check.definition.blast_radius else None
        if found is None:
            out.append(rec)
            continue
        radius, entry_workloads = found
        severity = raised(check.definition.severity, 1 + (entry_workloads >= 2))
        if severity is not check.definition.severity:
            radius = radius.model_copy(update={"raised_from": check.definition.severity})
            key = (check.id, severity)
            if key not in variants:
                definition = check.definition.model_copy(update={"severity": severity})
                variants[key] = dataclasses.replace(check, definition=definition)
            check = variants[key]
        workloads = sorted({workload_names.get(w, w) for w in radius.workloads})
        radius = radius.model_copy(update={"workloads": workloads})
        seen = (
            f"Blast radius: {len(radius.entry_points)} entry point(s) depend on it "
            f"({_listed([radii.name(e) for e in radius.entry_points])})"
            + (f" in workload(s) {_listed(workloads)}" if workloads else "")
            + (f"; severity raised from {radius.raised_from.value}." if radius.raised_from else ".")
        )
        out.append(record(check, status, account_id, region, arn, name, GraphDetail((), seen, radius), marks))
    return out
