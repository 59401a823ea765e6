"""Findings and the summary of a run: the output every sink consumes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from relaudit.models.check import References, Severity, Status
from relaudit.models.coverage import CoverageGap


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
    undelivered_findings: int = 0


class AuditResult(BaseModel):
    """Everything one run produced: the JSON output contract."""

    model_config = ConfigDict(extra="forbid")

    summary: Summary
    findings: list[Finding]
    coverage_gaps: list[CoverageGap]
