"""Findings and results for the report tests, built the way the catalog builds them.

``unknown`` findings are constructed with the plain string status ``UNKNOWN``: the status is being
added to the model (issue 14) and every renderer must already place it (after FAILED).
"""

from __future__ import annotations

from typing import Any

from relaudit.catalog.evaluate import build_finding
from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Status
from relaudit.models.finding import AuditResult, Finding, Summary

ACCOUNT = "123456789012"
_CATALOG = load_catalog(known_types=COLLECTORS)


def finding(check_id: str, status: Status | str, region: str, name: str, account: str = ACCOUNT) -> Finding:
    """The finding ``check_id`` gives resource ``name`` (its ARN made up from the check's type)."""
    check = _CATALOG.checks[check_id]
    service = check.definition.resource_type.split("::")[1].lower()
    arn = f"arn:aws:{service}:{region}:{account}:thing/{name}"
    built = build_finding(check, Status.PASSED if isinstance(status, str) else status, account, region, arn, name)
    if isinstance(status, str):
        return built.model_copy(update={"status": status, "reason": f"{name}: an input could not be read."})
    return built


def result(findings: list[Finding], **summary: Any) -> AuditResult:
    """An AuditResult holding ``findings`` with a summary counted from them."""
    counts: dict[str, int] = {}
    for f in findings:
        key = str(getattr(f.status, "value", f.status))
        counts[key] = counts.get(key, 0) + 1
    fields: dict[str, Any] = {
        "result": "complete",
        "started_at": "2026-12-07T01:00:00+00:00",
        "finished_at": "2026-12-07T01:00:05+00:00",
        "duration_seconds": 5.0,
        "accounts": sorted({f.account_id for f in findings}) or [ACCOUNT],
        "regions": sorted({f.region for f in findings}),
        "checks": len({f.check_id for f in findings}),
        "resources": len({f.resource_arn for f in findings}),
        "findings": counts,
        "failed_by_severity": {},
        "coverage_gaps": 0,
        "run_id": "20261207T010000Z-test",
        **summary,
    }
    return AuditResult.model_construct(summary=Summary(**fields), findings=findings, coverage_gaps=[])


def mixed() -> list[Finding]:
    """Failed, unknown, passed and not-applicable findings over two services and two regions."""
    return [
        finding("sqs-queue-redrive-policy-configured", Status.PASSED, "us-east-1", "orders"),
        finding("sqs-queue-redrive-policy-configured", Status.FAILED, "us-east-1", "emails"),
        finding("sqs-queue-redrive-policy-configured", Status.FAILED, "eu-west-1", "emails"),
        finding("sqs-queue-redrive-policy-configured", Status.NOT_APPLICABLE, "eu-west-1", "emails-dlq"),
        finding("rds-db-instance-multi-az", Status.FAILED, "eu-west-1", "reports-db"),
        finding("rds-db-instance-multi-az", Status.PASSED, "us-east-1", "orders-db"),
        finding("rds-db-instance-multi-az", "UNKNOWN", "us-east-1", "ledger-db"),
    ]
