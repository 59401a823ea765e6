"""What every human-facing report shows, computed once: findings grouped by check (what failed first)
and the services x regions heat map of the failed share.

Statuses are read as strings so a status added to the model (UNKNOWN) sorts and counts without a
change here: FAILED first, then UNKNOWN, then anything not listed, then PASSED and NOT_APPLICABLE.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from relaudit.models.finding import Finding

FAILED, UNKNOWN, PASSED, NOT_APPLICABLE = "FAILED", "UNKNOWN", "PASSED", "NOT_APPLICABLE"
_STATUS_RANK = {FAILED: 0, UNKNOWN: 1, PASSED: 3, NOT_APPLICABLE: 4}
_OTHER_RANK = 2
ATTENTION = frozenset({FAILED, UNKNOWN})  # what a reader must act on or look at


def status_of(finding: Finding) -> str:
    """The finding's status as a plain string (a StrEnum member or a string alike)."""
    return str(getattr(finding.status, "value", finding.status))


def status_rank(status: str) -> int:
    """Report order of a status: FAILED, UNKNOWN, (others), PASSED, NOT_APPLICABLE."""
    return _STATUS_RANK.get(status, _OTHER_RANK)


def first_line(text: str) -> str:
    """The first non-empty line of ``text`` (a remediation's headline)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def suppression_note(finding: Finding) -> str | None:
    """A one-line note when the finding is suppressed (relaudit.policy): its reason, source and expiry."""
    rule = finding.suppression
    if rule is None:
        return None
    until = f" until {rule.expires.isoformat()}" if rule.expires else ""
    return f"suppressed by {rule.source}{until}: {rule.reason}"


@dataclass
class CheckGroup:
    """The findings of one check with one status, as a report lists them."""

    status: str
    check_id: str
    title: str
    severity: str
    severity_rank: int
    best_practice: str
    remediation_text: str
    remediation_url: str
    references: dict[str, str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many resources the group holds."""
        return len(self.findings)

    @property
    def remediation_headline(self) -> str:
        """The first line of the remediation text."""
        return first_line(self.remediation_text)


def group_by_check(findings: Iterable[Finding], statuses: frozenset[str] | None = None) -> list[CheckGroup]:
    """Findings grouped by (status, check), in report order.

    Order: status (FAILED, UNKNOWN, ..., PASSED, NOT_APPLICABLE), then severity (most severe first),
    then the number of resources (most first), then check id; resources by account, region, name.

    Args:
        findings: Any iterable of findings (read once).
        statuses: Keep only these statuses (None: all).
    """
    groups: dict[tuple[str, str], CheckGroup] = {}
    for finding in findings:
        status = status_of(finding)
        if statuses is not None and status not in statuses:
            continue
        group = groups.get((status, finding.check_id))
        if group is None:
            group = groups[(status, finding.check_id)] = CheckGroup(
                status=status,
                check_id=finding.check_id,
                title=finding.title,
                severity=str(finding.severity.value),
                severity_rank=finding.severity.rank,
                best_practice=finding.best_practice,
                remediation_text=finding.remediation_text,
                remediation_url=finding.remediation_url,
                references=finding.references.model_dump(exclude_none=True),
            )
        group.findings.append(finding)
    ordered = sorted(groups.values(), key=lambda g: (status_rank(g.status), -g.severity_rank, -g.count, g.check_id))
    for group in ordered:
        group.findings.sort(key=lambda f: (f.account_id, f.region, f.resource_name, f.resource_arn))
    return ordered


def service_of(resource_type: str) -> str:
    """The service part of a CloudFormation type name: ``AWS::RDS::DBInstance`` -> ``RDS``."""
    parts = resource_type.split("::")
    return parts[1] if len(parts) == 3 else resource_type


@dataclass(frozen=True)
class HeatCell:
    """One (service, region) cell: failed findings among the judged (PASSED or FAILED) ones."""

    service: str
    region: str
    failed: int
    judged: int

    @property
    def share(self) -> float | None:
        """Failed share in [0, 1], or None when nothing there was judged."""
        return self.failed / self.judged if self.judged else None


@dataclass(frozen=True)
class HeatMap:
    """Services (rows) x regions (columns)."""

    services: list[str]
    regions: list[str]
    cells: dict[tuple[str, str], HeatCell]

    def cell(self, service: str, region: str) -> HeatCell:
        """The cell, empty when the service has no finding in the region."""
        return self.cells.get((service, region)) or HeatCell(service, region, 0, 0)


def heat_map(findings: Iterable[Finding]) -> HeatMap:
    """The failed share per (service, region): FAILED / (PASSED + FAILED); UNKNOWN and
    NOT_APPLICABLE are not judgements and do not count. Services most failing first."""
    failed: Counter[tuple[str, str]] = Counter()
    judged: Counter[tuple[str, str]] = Counter()
    seen: defaultdict[str, set[str]] = defaultdict(set)
    for finding in findings:
        key = (service_of(finding.resource_type), finding.region)
        seen[key[0]].add(key[1])
        status = status_of(finding)
        if status in (PASSED, FAILED):
            judged[key] += 1
            failed[key] += status == FAILED
    regions = sorted({region for regions in seen.values() for region in regions})
    per_service = Counter({service: sum(failed[(service, r)] for r in regions) for service in seen})
    services = sorted(seen, key=lambda s: (-per_service[s], s))
    cells = {key: HeatCell(key[0], key[1], failed[key], judged[key]) for key in judged}
    return HeatMap(services=services, regions=regions, cells=cells)
