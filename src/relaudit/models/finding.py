"""Findings and the summary of a run: the output every sink consumes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from relaudit.models.check import References, Severity, Status
from relaudit.models.coverage import CoverageGap


class Suppression(BaseModel):
    """Why a finding is excepted, by whom (the policy file or the resource's tags) and until when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    expires: dt.date | None = None
    source: Literal["config", "tag"]


class BlastRadius(BaseModel):
    """Who depends on a resource that is not redundant (relaudit.graph.blast): the entry points
    whose paths reach it (itself, if it is one) and the names of their workloads and its own, and the severity the check
    had before they raised it (None when they did not)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_points: list[str]
    workloads: list[str]
    raised_from: Severity | None = None


class Finding(BaseModel):
    """The result of one check on one resource."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    check_id: str
    title: str
    status: Status
    severity: Severity
    resource_arn: str
    resource_type: str
    resource_name: str
    region: str
    account_id: str
    best_practice: str
    reason: str
    references: References
    remediation_text: str
    remediation_url: str
    # Graph findings on a path (a chain, a loop, an uncaptured async path): its ARNs in order.
    path: list[str] | None = None
    # Issue 18 (relaudit.policy): an exception keeps the status, and the tier the resource was judged under.
    suppression: Suppression | None = None
    tier: str | None = None
    # Issue 16: a FAILED redundancy check on a resource the workload graph shows others depend on.
    blast_radius: BlastRadius | None = None


class SinkReport(BaseModel):
    """What one sink (Security Hub or DynamoDB) did with a run's findings."""

    model_config = ConfigDict(extra="forbid")

    sink: Literal["securityhub", "dynamodb"]
    delivered: int = Field(default=0, description="Findings the sink accepted in this run (archives included)")
    archived: int = Field(default=0, description="Of those, findings archived (resource gone or check not applicable)")
    unchanged: int = Field(default=0, description="Security Hub: unchanged findings not re-sent (re-send policy)")
    not_applicable: int = Field(default=0, description="Security Hub: NOT_APPLICABLE findings, never sent")
    unknown: int = Field(
        default=0, description="UNKNOWN findings: never sent to Security Hub; a stored verdict is kept as it was"
    )
    not_enabled: int = Field(default=0, description="Security Hub: findings in regions where it is not enabled")
    workflow: int = Field(default=0, description="Security Hub: Workflow set SUPPRESSED, or back to NEW")
    workflow_failed: int = Field(default=0, description="Security Hub: Workflow updates that still failed")
    history: int = Field(default=0, description="DynamoDB: status transitions recorded")
    superseded: int = Field(default=0, description="DynamoDB: a newer state was already stored")
    undelivered: int = Field(default=0, description="Findings that still failed after retries")
    calls: int = Field(
        default=0, description="API calls: BatchImportFindings, or the table's Query, PutItem and BatchWriteItem"
    )
    write_units: float = Field(default=0.0, description="DynamoDB: write capacity units the writes consumed")
    errors: dict[str, int] = Field(default_factory=dict, description="Undelivered findings by error code")
    notes: list[str] = Field(default_factory=list)


class Summary(BaseModel):
    """Counts and outcome of one audit run."""

    model_config = ConfigDict(extra="forbid")

    result: Literal["complete", "partial"]
    started_at: str
    finished_at: str
    duration_seconds: float
    accounts: list[str]
    regions: list[str]
    checks: int
    resources: int
    findings: dict[str, int] = Field(description="Counts by status")
    failed_by_severity: dict[str, int]
    coverage_gaps: int
    # Issue 18 (relaudit.policy): suppressed findings, and the FAILED among them by severity (--fail-on
    # ignores those); notes on suppressions that expired or were not honoured.
    suppressed: int = 0
    suppressed_by_severity: dict[str, int] = Field(default_factory=dict)
    policy_notes: list[str] = Field(default_factory=list)
    undelivered_findings: int = 0
    run_id: str | None = None
    sinks: list[SinkReport] = Field(default_factory=list)


class AuditResult(BaseModel):
    """Everything one run produced: the JSON output contract."""

    model_config = ConfigDict(extra="forbid")

    summary: Summary
    # Any sequence: a run's are built one by one as they are read (relaudit.catalog.findings).
    findings: Sequence[Finding]
    coverage_gaps: list[CoverageGap]
    # The (account, region, check id) slices that completed: the only ones the lifecycle may archive
    # in. Not part of the JSON output.
    completed_slices: frozenset[tuple[str, str, str]] = Field(default_factory=frozenset, exclude=True)

    @field_serializer("findings")
    def _findings_as_list(self, findings: Sequence[Finding]) -> list[Finding]:
        return findings if isinstance(findings, list) else list(findings)
