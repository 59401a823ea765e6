"""The CLI's streamed JSON report is byte for byte the documented result_json document."""

from __future__ import annotations

import io

import pytest

from relaudit.models.check import References, Severity, Status
from relaudit.models.coverage import CoverageGap
from relaudit.models.finding import AuditResult, Finding, SinkReport, Summary
from relaudit.sinks.local import result_json, write_result_json


def _finding(index: int) -> Finding:
    return Finding(
        id=f"id-{index}",
        check_id="sqs-queue-redrive-policy-configured",
        title="Queue has a dead-letter queue",
        status=Status.FAILED,
        severity=Severity.MEDIUM,
        resource_arn=f"arn:aws:sqs:eu-west-1:111122223333:q-{index}",
        resource_type="AWS::SQS::Queue",
        resource_name=f'q-{index} "quoted" ünïcödé\nnew line',
        region="eu-west-1",
        account_id="111122223333",
        best_practice="REL05-BP04",
        reason="No RedrivePolicy.",
        references=References(prowler=None, securityhub="SQS.3"),
        remediation_text="Add a redrive policy.",
        remediation_url="https://docs.aws.amazon.com/",
    )


def _result(findings: int, gaps: int) -> AuditResult:
    summary = Summary(
        result="partial" if gaps else "complete",
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:01+00:00",
        duration_seconds=1.5,
        accounts=["111122223333"],
        regions=["eu-west-1"],
        checks=1,
        resources=findings,
        findings={"PASSED": 0, "FAILED": findings, "NOT_APPLICABLE": 0},
        failed_by_severity={"MEDIUM": findings} if findings else {},
        coverage_gaps=gaps,
        sinks=[SinkReport(sink="securityhub", delivered=findings, notes=["a note"])],
    )
    gap = CoverageGap(
        account_id="111122223333", region="eu-west-1", resource_type="AWS::SQS::Queue", error_code="X", message="m"
    )
    return AuditResult(
        summary=summary,
        findings=[_finding(i) for i in range(findings)],
        coverage_gaps=[gap] * gaps,
        completed_slices=frozenset({("111122223333", "eu-west-1", "sqs-queue-redrive-policy-configured")}),
    )


@pytest.mark.parametrize(("findings", "gaps"), [(0, 0), (1, 0), (3, 2)])
def test_streamed_report_equals_the_whole_document(findings: int, gaps: int) -> None:
    result = _result(findings, gaps)
    out = io.StringIO()
    write_result_json(result, out)
    assert out.getvalue() == result_json(result)
    assert "completed_slices" not in out.getvalue()
