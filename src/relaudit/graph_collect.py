"""`relaudit graph`: inventory only what the graph is built from, then assemble each account's graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from relaudit.graph.evaluate import account_graph
from relaudit.graph.facts import FactSink
from relaudit.plan import make_plan
from relaudit.run import inventory

if TYPE_CHECKING:
    from relaudit.aws import ClientFactory
    from relaudit.catalog.loader import Catalog
    from relaudit.graph.build import AccountGraph
    from relaudit.graph.workloads import Workload
    from relaudit.models.coverage import CoverageGap
    from relaudit.models.request import AuditRequest


@dataclass(frozen=True)
class GraphResult:
    """Each account's graph and workloads, and what could not be read."""

    graphs: list[tuple[AccountGraph, list[Workload]]]
    coverage_gaps: list[CoverageGap]


def collect_graph(
    request: AuditRequest, catalog: Catalog, factory: ClientFactory, workload_tag: str | None = None
) -> GraphResult:
    """Plan the graph checks of ``catalog`` (so exactly the graph's source types are read, with the
    enrichments its facts need), inventory them and build the account's graph.

    ``workload_tag``: a tag key whose value names a resource's workload (after CloudFormation stacks
    and ``awsApplication``).
    """
    graph_checks = [check_id for check_id, check in sorted(catalog.checks.items()) if check.definition.graph]
    plan = make_plan(request.model_copy(update={"checks": graph_checks}), catalog, factory)
    sink = FactSink(workload_tag)
    # A failed join's fields are not the graph's concern here: its gap says what is missing.
    gaps = inventory(plan, factory, request.max_workers, lambda documents, _unavailable: sink.add(documents))
    graphs = [account_graph(facts) for _, facts in sorted(sink.by_account.items())]
    gaps.sort(key=lambda g: (g.account_id, g.region, g.resource_type))
    return GraphResult(graphs, gaps)
