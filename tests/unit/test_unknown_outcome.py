"""UNKNOWN in a run's outcome: counted, partial, shown, never a --fail-on failure; and completeness per check."""

from __future__ import annotations

import datetime as dt
import io
import re

from relaudit.catalog.loader import load_catalog
from relaudit.cli import exit_code
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Severity, Status
from relaudit.models.coverage import CoverageGap
from relaudit.models.finding import AuditResult
from relaudit.models.resource import ResourceDocument
from relaudit.plan import Plan
from relaudit.report import terminal
from relaudit.run import Evaluation, completed_slices, summarize

CATALOG = load_catalog(known_types=COLLECTORS)
ACCOUNT = "123456789012"
RDS = "AWS::RDS::DBInstance"
BACKUP_CHECK = "rds-db-instance-aws-backup-recent"
MULTI_AZ = "rds-db-instance-multi-az"


def _plan(*check_ids: str, regions: tuple[str, ...] = ("us-east-1", "eu-west-1")) -> Plan:
    return Plan(ACCOUNT, "aws", regions, tuple(CATALOG.checks[i] for i in check_ids))


def _gap(region: str, fields: tuple[str, ...] = ()) -> CoverageGap:
    return CoverageGap(
        account_id=ACCOUNT, region=region, resource_type=RDS, error_code="AccessDenied", message="m", fields=fields
    )


def test_a_failed_join_leaves_incomplete_only_the_checks_reading_its_fields() -> None:
    plan = _plan(BACKUP_CHECK, MULTI_AZ)
    scope = completed_slices(plan, [_gap("us-east-1", ("AwsBackup",))])
    assert scope == {
        (ACCOUNT, "us-east-1", MULTI_AZ),
        (ACCOUNT, "eu-west-1", MULTI_AZ),
        (ACCOUNT, "eu-west-1", BACKUP_CHECK),
    }
    assert completed_slices(plan, [_gap("us-east-1")]) == {
        (ACCOUNT, "eu-west-1", MULTI_AZ),
        (ACCOUNT, "eu-west-1", BACKUP_CHECK),
    }, "a unit that failed leaves every check of its type incomplete"


def _document(name: str, **properties: object) -> ResourceDocument:
    arn = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:{name}"
    base = {"MultiAZ": False, "DBInstanceStatus": "available", "Engine": "postgres", "DBInstanceIdentifier": name}
    return ResourceDocument(
        account_id=ACCOUNT, region="us-east-1", resource_type=RDS, arn=arn, name=name, properties={**base, **properties}
    )


def _result() -> AuditResult:
    plan = _plan(BACKUP_CHECK, MULTI_AZ, regions=("us-east-1",))
    evaluation = Evaluation(plan.checks)
    evaluation.add([_document("orders"), _document("billing")], {"AwsBackup": "AccessDenied: refused"})
    gaps = [_gap("us-east-1", ("AwsBackup",))]
    findings = evaluation.finish(gaps)
    summary = summarize(plan, findings, gaps, evaluation.resources, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1.0)
    return AuditResult(summary=summary, findings=list(findings), coverage_gaps=gaps)


def test_unknown_is_counted_makes_the_run_partial_and_never_fails_the_gate() -> None:
    result = _result()
    statuses = {(f.resource_name, f.check_id): f.status for f in result.findings}
    assert statuses == {
        ("orders", BACKUP_CHECK): Status.UNKNOWN,
        ("billing", BACKUP_CHECK): Status.UNKNOWN,
        ("orders", MULTI_AZ): Status.FAILED,
        ("billing", MULTI_AZ): Status.FAILED,
    }
    assert result.summary.findings == {"PASSED": 0, "FAILED": 2, "NOT_APPLICABLE": 0, "UNKNOWN": 2}
    assert result.summary.result == "partial"
    multi_az_severity = CATALOG.checks[MULTI_AZ].definition.severity
    assert result.summary.failed_by_severity == {multi_az_severity.value: 2}
    above = [s for s in Severity if s.rank > multi_az_severity.rank]
    assert above, "the gate must sit above the FAILED findings for this test to mean anything"
    assert exit_code(result, above[0]) == 3, "UNKNOWN (HIGH check or not) never trips --fail-on"
    assert exit_code(result, multi_az_severity) == 1


def test_unknown_is_only_partial_even_without_any_gap() -> None:
    plan = _plan(BACKUP_CHECK, regions=("us-east-1",))
    evaluation = Evaluation(plan.checks)
    evaluation.add([_document("orders", _unavailable={"AwsBackup": "throttled"})])
    findings = evaluation.finish([])
    summary = summarize(plan, findings, [], 1, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1.0)
    assert [f.status for f in findings] == [Status.UNKNOWN] and summary.result == "partial"


def test_the_terminal_shows_unknown_findings_after_failed_ones() -> None:
    out = io.StringIO()
    terminal.render(_result(), out)
    text = out.getvalue()
    groups = re.findall(r"^(FAILED|UNKNOWN)\s+\S+\s+(\S+) \((\d+)\)", text, re.M)
    assert groups == [("FAILED", MULTI_AZ, "2"), ("UNKNOWN", BACKUP_CHECK, "2")]
    assert "2 UNKNOWN" in text
