"""What the HTML report's workload section holds: the scorecards (all of them, worst first), one drawing
per workload for the worst :data:`MAX_DRAWINGS`, and why a section is empty when it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relaudit.graph.evaluate import incomplete_accounts
from relaudit.report.graph_layout import Drawing, GraphIndex, layout_workload
from relaudit.report.scorecards import Scorecard, scorecards, verdicts_by_resource, workload_key

if TYPE_CHECKING:
    from collections.abc import Mapping

    from relaudit.models.finding import AuditResult

# An account can have hundreds of workloads (every unconnected resource outside a stack is one): the
# page draws the worst ones and lists every one in the scorecards.
MAX_DRAWINGS = 40


@dataclass(frozen=True)
class WorkloadSection:
    """The scorecards and drawings, or the reason there are none (``selected`` False: no graph check)."""

    selected: bool
    cards: list[Scorecard] = field(default_factory=list)
    drawings: dict[int, Drawing] = field(default_factory=dict)  # by the card's position in ``cards``
    not_drawn: int = 0  # workloads past MAX_DRAWINGS
    accounts_without_graph: list[tuple[str, str]] = field(default_factory=list)  # (account, why)

    @property
    def workloads(self) -> int:
        """How many workloads (the "no workload" card is none)."""
        return sum(card.key is not None for card in self.cards)


def workload_section(graph: Mapping[str, Any] | None, result: AuditResult) -> WorkloadSection:
    """The section for ``result`` given the run's graph document (None: no graph check was selected).

    Every account of the run that has no node in ``graph`` is named, with why: one of its graph
    sources could not be read (its coverage gap says which), or it has nothing the graph holds.
    """
    if graph is None:
        return WorkloadSection(selected=False)
    cards = scorecards(graph, result.findings)
    verdicts = verdicts_by_resource(result.findings)
    index = GraphIndex.of(graph)
    by_key = {workload_key(w, index.nodes): w for w in graph["workloads"]}
    drawings: dict[int, Drawing] = {}
    drawable = [(i, card.key) for i, card in enumerate(cards) if card.key is not None]
    for position, key in drawable[:MAX_DRAWINGS]:
        drawings[position] = layout_workload(index, by_key[key], key, verdicts, number=position)
    with_graph = {str(node["account_id"]) for node in graph["nodes"]}
    incomplete = incomplete_accounts(result.coverage_gaps)
    unread = "a graph source could not be read (see the coverage gaps)"
    missing = [
        (account, unread if account in incomplete else "nothing to draw")
        for account in result.summary.accounts
        if account not in with_graph
    ]
    return WorkloadSection(True, cards, drawings, max(0, len(drawable) - MAX_DRAWINGS), missing)
