"""Evaluate the graph checks over one account's graph documents, with the catalog's own evaluator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaudit.catalog.evaluate import EVALUATION_ERRORS, PARAMS_KEY, GraphDetail, status_of
from relaudit.catalog.findings import Record, record
from relaudit.catalog.functions import OPTIONS
from relaudit.graph.blast import Radii, with_radius
from relaudit.graph.build import AccountGraph, build
from relaudit.graph.documents import Derived, node_document
from relaudit.graph.facts import FIELDS, SOURCE_TYPES, Node
from relaudit.graph.workloads import assign
from relaudit.models.check import Status

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from relaudit.catalog.loader import CompiledCheck
    from relaudit.graph.facts import Fact
    from relaudit.graph.workloads import Workload
    from relaudit.models.coverage import CoverageGap
    from relaudit.policy.apply import ResourcePolicy


def account_graph(facts: Iterable[Fact]) -> tuple[AccountGraph, list[Workload]]:
    """One account's graph, with its workloads assigned."""
    account = build(facts)
    return account, assign(account)


def _path(check: CompiledCheck, document: dict[str, Any]) -> tuple[str, ...]:
    if check.finding_path is None:
        return ()
    found = check.finding_path.search({**document, PARAMS_KEY: check.definition.parameters}, options=OPTIONS)
    return tuple(str(arn) for arn in found if arn) if isinstance(found, list) else ()


def evaluate_account(
    account: AccountGraph,
    checks: Sequence[CompiledCheck],
    policy_of: Callable[[str], ResourcePolicy | None] | None = None,
    *,
    workloads: Sequence[Workload] = (),
    redundancy: Iterable[Record] = (),
) -> tuple[list[Record], dict[str, list[tuple[str, Exception]]]]:
    """The records of ``checks`` on every inventoried node of their resource type, and the
    (check id -> [(ARN, error)]) expressions that failed on a document.

    A failing finding with a path says the path, its hops and when a hop is a permission only.
    ``policy_of`` gives a node's policy (relaudit.policy) by ARN: its tier's checks and suppressions
    apply to graph checks as to the others. ``redundancy`` are the account's findings of redundancy
    checks (``blast_radius: true``), judged already: they come back with their blast radius
    (relaudit.graph.blast), after the graph checks' records.
    """
    derived = Derived(account)
    by_type: dict[str, list[CompiledCheck]] = {}
    for check in checks:
        by_type.setdefault(check.definition.resource_type, []).append(check)
    records: list[Record] = []
    failures: dict[str, list[tuple[str, Exception]]] = {}
    for node in account.nodes():
        wanted = by_type.get(node.type)
        if not wanted or node.attrs.get("Stub"):
            continue
        document = node_document(derived, node.arn)
        view = policy_of(node.arn) if policy_of is not None else None
        for check in wanted:
            judged = view.judged(check) if view is not None else check
            if judged is None:  # the node's tier leaves the check out: not evaluated
                marks = view.marks(check.id, Status.NOT_APPLICABLE) if view is not None else None
                records.append(
                    record(check, Status.NOT_APPLICABLE, node.account_id, node.region, node.arn, node.name, None, marks)
                )
                continue
            try:
                status = status_of(judged, document)
                path = _path(judged, document) if status is Status.FAILED else ()
            except EVALUATION_ERRORS as exc:
                failures.setdefault(check.id, []).append((node.arn, exc))
                continue
            detail = GraphDetail(path, f"Path: {derived.describe(list(path))}.") if path else None
            marks = view.marks(check.id, status) if view is not None else None
            records.append(record(judged, status, node.account_id, node.region, node.arn, node.name, detail, marks))
    names = {workload.id: workload.name for workload in workloads}
    records.extend(with_radius(redundancy, Radii(account, derived), names))
    return records, failures


def unknown_account(
    facts: Iterable[Fact],
    checks: Sequence[CompiledCheck],
    missing: str,
    policy_of: Callable[[str], ResourcePolicy | None] | None = None,
) -> list[Record]:
    """An account whose graph misses a source: each graph check is UNKNOWN on every inventoried
    resource of its type (could not judge), so no stored verdict moves and none is archived.

    Under ``policy_of`` a check the resource's tier leaves out is NOT_APPLICABLE (it does not
    concern the resource, judged or not) and the others carry the tier's severity and mark; an
    UNKNOWN finding is never suppressed (marks suppress FAILED findings only).
    """
    by_type: dict[str, list[CompiledCheck]] = {}
    for check in checks:
        by_type.setdefault(check.definition.resource_type, []).append(check)
    detail = f"the workload graph could not be read ({missing})"
    nodes = {fact.arn: fact for fact in facts if isinstance(fact, Node) and fact.type in by_type}
    records: list[Record] = []
    for node in nodes.values():
        view = policy_of(node.arn) if policy_of is not None else None
        for check in by_type[node.type]:
            judged = view.judged(check) if view is not None else check
            status = Status.UNKNOWN if judged is not None else Status.NOT_APPLICABLE
            marks = view.marks(check.id, status) if view is not None else None
            reason = detail if judged is not None else None
            records.append(
                record(judged or check, status, node.account_id, node.region, node.arn, node.name, reason, marks)
            )
    return records


def incomplete_accounts(gaps: Iterable[CoverageGap]) -> dict[str, str]:
    """Accounts whose graph misses a source (account -> the first gap's unit): their graph checks
    are not evaluated, so a missing edge can neither pass nor fail a check."""
    sources = set(SOURCE_TYPES) | {"*"}
    found: dict[str, str] = {}
    for gap in gaps:
        if gap.fields and not set(gap.fields) & FIELDS.get(gap.resource_type, frozenset()):
            continue  # a failed join the graph does not read (AWS Backup's, say)
        if gap.resource_type in sources:
            found.setdefault(gap.account_id, f"{gap.region}/{gap.resource_type}: {gap.error_code}")
    return found
