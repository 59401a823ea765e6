"""Keep each account's workload graph as ``run()`` builds it (its ``on_graph`` callback), in the
`relaudit graph` JSON shape, for the HTML report to draw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relaudit.graph.export import as_dict
from relaudit.plan import select_checks

if TYPE_CHECKING:
    from relaudit.catalog.loader import Catalog
    from relaudit.graph.build import AccountGraph
    from relaudit.graph.workloads import Workload


def graph_check_selected(catalog: Catalog, requested: list[str]) -> bool:
    """Whether the run of ``requested`` checks (all when empty) builds a workload graph.

    Raises:
        BadRequestError: A requested id is not in the catalog (as ``run()`` would say).
    """
    return any(check.definition.graph for check in select_checks(catalog, requested))


@dataclass
class GraphCapture:
    """Collects what ``run(on_graph=...)`` hands over, one account at a time.

    Each account's graph is turned into plain dicts as soon as it arrives, so the networkx graph is
    not kept alive until the report is written. ``selected`` says whether a graph check was
    selected: without one the report says so instead of drawing an empty graph.
    """

    selected: bool
    _parts: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, account: AccountGraph, workloads: list[Workload]) -> None:
        """The ``on_graph`` callback: keep this account's nodes, edges and workloads."""
        self._parts.append(as_dict([(account, workloads)]))

    def document(self) -> dict[str, Any] | None:
        """``{"nodes", "edges", "workloads"}`` over every account seen, or None when no graph check was
        selected (a selected check with no graph at all gives empty lists)."""
        if not self.selected:
            return None
        merged: dict[str, list[Any]] = {"nodes": [], "edges": [], "workloads": []}
        for part in self._parts:
            for key, items in merged.items():
                items.extend(part[key])
        return dict(merged)
