"""Suppressed findings in the outputs: listed apart in the terminal report, carried in the JSON, and
ignored by --fail-on."""

from __future__ import annotations

import datetime as dt
import io
import json

from relaudit.cli import EXIT_FAILED, EXIT_OK, exit_code
from relaudit.models.check import Severity
from relaudit.models.finding import AuditResult, Summary, Suppression
from relaudit.report import terminal
from relaudit.sinks.local import result_json
from tests.integration.sinks.helpers import make_finding

HELD = Suppression(reason="the analysts' dev copy", expires=dt.date(2027, 1, 31), source="config")


def result(suppressed: int, failed: int = 2, notes: list[str] | None = None) -> AuditResult:
    findings = [make_finding(f"q{i}", severity=Severity.HIGH) for i in range(failed)]
    findings = [f.model_copy(update={"suppression": HELD}) if i < suppressed else f for i, f in enumerate(findings)]
    summary = Summary(
        result="complete",
        started_at="2026-12-07T00:00:00+00:00",
        finished_at="2026-12-07T00:00:01+00:00",
        duration_seconds=1.0,
        accounts=["123456789012"],
        regions=["us-east-1"],
        checks=1,
        resources=failed,
        findings={"PASSED": 0, "FAILED": failed, "NOT_APPLICABLE": 0},
        failed_by_severity={"HIGH": failed},
        coverage_gaps=0,
        suppressed=suppressed,
        suppressed_by_severity={"HIGH": suppressed} if suppressed else {},
        policy_notes=notes or [],
    )
    return AuditResult(summary=summary, findings=findings, coverage_gaps=[])


def test_the_terminal_lists_suppressed_findings_apart_with_source_expiry_and_reason() -> None:
    out = io.StringIO()
    terminal.render(result(1, notes=["suppressions[1] (old) expired on 2020-01-31: it no longer applies"]), out)
    main, rest = out.getvalue().split("Suppressed (1):\n", 1)
    assert " q1" in main and " q0" not in main
    suppressed_rows, after = rest.split("\n\n", 1)
    (row,) = [line for line in suppressed_rows.splitlines() if " q0 " in line]
    assert row.split()[-6:] == ["config", "2027-01-31", "the", "analysts'", "dev", "copy"]
    assert "Suppressed: 1" in after
    assert "Policy notes:\n  suppressions[1] (old) expired on 2020-01-31" in after


def test_the_json_carries_the_suppression_and_the_summary_counts_it() -> None:
    report = json.loads(result_json(result(1)))
    held = [f for f in report["findings"] if f["suppression"]]
    assert [f["suppression"] for f in held] == [{"reason": HELD.reason, "expires": "2027-01-31", "source": "config"}]
    assert report["summary"]["suppressed"] == 1 and report["summary"]["suppressed_by_severity"] == {"HIGH": 1}


def test_fail_on_counts_only_unsuppressed_failures() -> None:
    assert exit_code(result(2), Severity.HIGH) == EXIT_OK
    assert exit_code(result(1), Severity.HIGH) == EXIT_FAILED
    assert exit_code(result(1), Severity.CRITICAL) == EXIT_OK
