"""Findings kept as records: the same findings, in the report order, as evaluating each document gives."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from relaudit.catalog.evaluate import evaluate
from relaudit.catalog.findings import FindingRecords
from relaudit.catalog.loader import CompiledCheck, load_check
from relaudit.models.check import Status
from relaudit.models.finding import AuditResult, Summary
from relaudit.models.resource import ResourceDocument
from relaudit.run import Evaluation, summarize
from relaudit.sinks.local import result_json, write_result_json

CHECK = """\
id: {id}
title: Queue flag is set
resource_type: AWS::SQS::Queue
severity: {severity}
best_practice: REL10-BP01
applies_when: "Scope != `false`"
passes_when: "Flag"
remediation: {{text: Fix., url: "https://example.com/"}}
examples:
  - {{name: ok, expect: PASSED, resource: {{Flag: true}}}}
  - {{name: bad, expect: FAILED, resource: {{Flag: false}}}}
"""


def _checks(tmp_path: Path) -> list[CompiledCheck]:
    checks = []
    for check_id, severity in (("b-queue-flag", "HIGH"), ("a-queue-flag", "LOW")):
        path = tmp_path / f"{check_id}.yaml"
        path.write_text(CHECK.format(id=check_id, severity=severity))
        checks.append(load_check(path))
    return checks


def _doc(index: int, region: str, flag: object, scope: bool = True) -> ResourceDocument:
    return ResourceDocument(
        account_id="111122223333",
        region=region,
        resource_type="AWS::SQS::Queue",
        arn=f"arn:aws:sqs:{region}:111122223333:q{index}",
        name=f"q{index}",
        properties={"Flag": flag, "Scope": scope},
    )


DOCS = st.lists(
    st.tuples(st.sampled_from(["eu-west-1", "us-east-1"]), st.sampled_from([True, False, None, "yes"]), st.booleans()),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(rows=DOCS)
def test_records_read_back_as_the_evaluated_findings_in_report_order(tmp_path_factory, rows) -> None:  # type: ignore[no-untyped-def]
    checks = _checks(tmp_path_factory.mktemp("checks"))
    docs = [_doc(i, region, flag, scope) for i, (region, flag, scope) in enumerate(rows)]
    evaluation = Evaluation(checks)
    for doc in docs:  # one unit per document, as units end in any order
        evaluation.add([doc])
    findings = evaluation.finish([])
    assert isinstance(findings, FindingRecords)

    expected = sorted(
        (evaluate(check, doc) for doc in docs for check in checks),
        key=lambda f: (f.account_id, f.region, f.check_id, f.resource_arn),
    )
    assert list(findings) == expected
    assert len(findings) == len(expected) == 2 * len(docs)
    assert [findings[i] for i in range(len(findings))] == expected
    assert findings[1:3] == expected[1:3]
    assert list(findings.outcomes()) == [(f.status, f.severity, False) for f in expected]


def test_summary_counts_from_records_match_counts_from_findings(tmp_path: Path) -> None:
    checks = _checks(tmp_path)
    evaluation = Evaluation(checks)
    evaluation.add([_doc(1, "eu-west-1", True), _doc(2, "eu-west-1", False), _doc(3, "us-east-1", True, scope=False)])
    records = evaluation.finish([])
    started = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    from_records = summarize([], records, [], 3, started, 1.0)
    from_list = summarize([], list(records), [], 3, started, 1.0)
    assert from_records == from_list
    assert from_records.findings == {"PASSED": 2, "FAILED": 2, "NOT_APPLICABLE": 2, "UNKNOWN": 0}
    assert from_records.failed_by_severity == {"HIGH": 1, "LOW": 1}


def test_audit_result_json_is_the_same_for_records_and_a_list(tmp_path: Path) -> None:
    checks = _checks(tmp_path)
    evaluation = Evaluation(checks)
    evaluation.add([_doc(1, "eu-west-1", True), _doc(2, "us-east-1", False)])
    records = evaluation.finish([])
    summary = Summary(
        result="complete",
        started_at="2026-11-22T00:00:00+00:00",
        finished_at="2026-11-22T00:00:01+00:00",
        duration_seconds=1.0,
        accounts=["111122223333"],
        regions=["eu-west-1", "us-east-1"],
        checks=2,
        resources=2,
        findings={"PASSED": 2, "FAILED": 2, "NOT_APPLICABLE": 0},
        failed_by_severity={},
        coverage_gaps=0,
    )
    lazy = AuditResult.model_construct(summary=summary, findings=records, coverage_gaps=[])
    eager = AuditResult(summary=summary, findings=list(records), coverage_gaps=[])
    out = io.StringIO()
    write_result_json(lazy, out)
    assert result_json(lazy) == result_json(eager) == out.getvalue()
    assert [f["status"] for f in json.loads(out.getvalue())["findings"]] == [
        Status.PASSED,
        Status.PASSED,
        Status.FAILED,
        Status.FAILED,
    ]
