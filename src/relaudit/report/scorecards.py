"""Per-workload scorecards: a run's findings counted by the workload of their resource, worst first.

A finding belongs to the workload of the graph node whose id is its resource ARN (`relaudit graph`'s
``workload``); a finding whose ARN is no node, or a node in no workload (an endpoint outside the
inventory), counts under "no workload". Workload ids are only unique within an account (a tag's
``tag:key=value`` can name workloads in two accounts), so a workload is keyed by (account, id).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relaudit.models.check import Severity
from relaudit.report.grouping import FAILED, PASSED, UNKNOWN, status_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from relaudit.models.finding import Finding

NO_WORKLOAD = "no workload"
COUNTED = (PASSED, FAILED, UNKNOWN)  # NOT_APPLICABLE is no verdict: not counted
WorkloadKey = tuple[str, str]  # (account id, workload id)
# Most severe first: the order a scorecard lists its failures in and the order "worst" compares them.
SEVERITIES = tuple(reversed(Severity))


@dataclass(frozen=True)
class ResourceVerdicts:
    """What the findings say of one resource: the checks that failed it, or could not judge it."""

    failed: tuple[str, ...] = ()
    suppressed: tuple[str, ...] = ()  # of ``failed``, those a policy suppressed
    unknown: tuple[str, ...] = ()


@dataclass
class Scorecard:
    """One workload's counts. ``key`` is None for the "no workload" card."""

    key: WorkloadKey | None
    name: str
    source: str
    account_id: str
    resources: int
    statuses: Counter[str] = field(default_factory=Counter)
    failed_severity: Counter[str] = field(default_factory=Counter)
    suppressed: int = 0

    @property
    def failed_by_severity(self) -> list[tuple[str, int]]:
        """(severity, FAILED findings), most severe first, severities with none left out."""
        return [(sev.value, self.failed_severity[sev.value]) for sev in SEVERITIES if self.failed_severity[sev.value]]

    @property
    def failed_share(self) -> float | None:
        """FAILED / (PASSED + FAILED); None when nothing was judged."""
        judged = self.statuses[PASSED] + self.statuses[FAILED]
        return self.statuses[FAILED] / judged if judged else None

    def worst_first(self) -> tuple[Any, ...]:
        """Sort key: the failures by severity compared most severe first (one CRITICAL outranks any
        number of HIGH), then the failed share, then UNKNOWN findings, then name."""
        by_severity = tuple(-self.failed_severity[sev.value] for sev in SEVERITIES)
        return (*by_severity, -(self.failed_share or 0.0), -self.statuses[UNKNOWN], self.name, self.key or ("", ""))


def node_workloads(graph: Mapping[str, Any]) -> dict[str, WorkloadKey]:
    """Node id (ARN) -> its workload's key, for nodes in a workload."""
    return {
        node["id"]: (str(node["account_id"]), str(node["workload"])) for node in graph["nodes"] if node.get("workload")
    }


def workload_key(workload: Mapping[str, Any], nodes: Mapping[str, Mapping[str, Any]]) -> WorkloadKey:
    """A workload's (account, id), the account read from its first node."""
    first = nodes.get(workload["nodes"][0], {}) if workload["nodes"] else {}
    return (str(first.get("account_id", "")), str(workload["id"]))


def verdicts_by_resource(findings: Iterable[Finding]) -> dict[str, ResourceVerdicts]:
    """ARN -> the checks that failed it (suppressed ones too) or could not judge it, sorted."""
    failed: dict[str, set[str]] = defaultdict(set)
    suppressed: dict[str, set[str]] = defaultdict(set)
    unknown: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        status = status_of(finding)
        if status == FAILED:
            failed[finding.resource_arn].add(finding.check_id)
            if finding.suppression is not None:
                suppressed[finding.resource_arn].add(finding.check_id)
        elif status == UNKNOWN:
            unknown[finding.resource_arn].add(finding.check_id)
    return {
        arn: ResourceVerdicts(*(tuple(sorted(found.get(arn, ()))) for found in (failed, suppressed, unknown)))
        for arn in failed.keys() | unknown.keys()
    }


def scorecards(graph: Mapping[str, Any], findings: Iterable[Finding]) -> list[Scorecard]:
    """One scorecard per workload of ``graph`` (the `relaudit graph` JSON shape), worst first, then
    the "no workload" card when some finding belongs to none."""
    nodes = {node["id"]: node for node in graph["nodes"]}
    owner = node_workloads(graph)
    cards: dict[WorkloadKey, Scorecard] = {}
    for workload in graph["workloads"]:
        key = workload_key(workload, nodes)
        cards[key] = Scorecard(key, str(workload["name"]), str(workload["source"]), key[0], len(workload["nodes"]))
    loose = Scorecard(None, NO_WORKLOAD, "", "", 0)
    loose_resources: set[str] = set()
    for finding in findings:
        status = status_of(finding)
        if status not in COUNTED:
            continue
        found = owner.get(finding.resource_arn)
        card = cards.get(found) if found is not None else None
        if card is None:
            card = loose
            loose_resources.add(finding.resource_arn)
        card.statuses[status] += 1
        if status == FAILED:
            card.failed_severity[finding.severity.value] += 1
            if finding.suppression is not None:
                card.suppressed += 1
    ordered = sorted(cards.values(), key=Scorecard.worst_first)
    if loose_resources:
        loose.resources = len(loose_resources)
        ordered.append(loose)  # last: not a workload, and often most of an account's findings
    return ordered
