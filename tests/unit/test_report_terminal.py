"""The terminal view and its grouping: what failed first (then UNKNOWN), by check, with counts,
titles and the remediation's first line; PASSED only on request; colour only where it belongs."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from relaudit.models.check import Status
from relaudit.models.finding import Finding, Suppression
from relaudit.report import terminal
from relaudit.report.grouping import group_by_check, heat_map
from tests.support.report_data import finding, mixed, result

ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*3[0-9]m|\x1b\[[0-9;]*38;")


def _view(findings: list[Finding], **options: bool) -> str:
    out = io.StringIO()
    terminal.render(result(findings), out, **options)
    return out.getvalue()


def _headers(text: str) -> list[tuple[str, str, int]]:
    return [
        (s, c, int(n))
        for s, c, n in re.findall(r"^(FAILED|UNKNOWN|PASSED|NOT_APPLICABLE)\s+\S+\s+(\S+) \((\d+)\)", text, re.M)
    ]


def test_groups_are_failed_then_unknown_then_passed_most_severe_first() -> None:
    groups = group_by_check(mixed())
    assert [(g.status, g.check_id, g.count) for g in groups] == [
        ("FAILED", "rds-db-instance-multi-az", 1),  # HIGH before MEDIUM
        ("FAILED", "sqs-queue-redrive-policy-configured", 2),
        ("UNKNOWN", "rds-db-instance-multi-az", 1),
        ("PASSED", "rds-db-instance-multi-az", 1),
        ("PASSED", "sqs-queue-redrive-policy-configured", 1),
        ("NOT_APPLICABLE", "sqs-queue-redrive-policy-configured", 1),
    ]
    emails = groups[1]
    assert [f.region for f in emails.findings] == ["eu-west-1", "us-east-1"]


def test_view_lists_failed_and_unknown_with_title_fix_and_resources_and_counts_the_rest() -> None:
    text = _view(mixed())
    assert _headers(text) == [
        ("FAILED", "rds-db-instance-multi-az", 1),
        ("FAILED", "sqs-queue-redrive-policy-configured", 2),
        ("UNKNOWN", "rds-db-instance-multi-az", 1),
    ]
    sqs = next(g for g in group_by_check(mixed()) if g.check_id.startswith("sqs") and g.status == "FAILED")
    block = text[text.index("sqs-queue-redrive-policy-configured (2)") :]
    assert sqs.title in block.splitlines()[0]
    assert block.splitlines()[1].strip().startswith(f"fix: {sqs.remediation_headline}")
    assert re.search(r"^\s+eu-west-1\s+emails$", block, re.M) and re.search(r"^\s+us-east-1\s+emails$", block, re.M)
    assert "ledger-db  ledger-db: an input could not be read." in text, "an UNKNOWN resource shows why"
    assert not re.search(r"^\s+\S+\s+orders(-db)?$", text, re.M), "PASSED resources are not listed"
    assert "PASSED: 2 findings of 2 checks not listed (--show-passed lists them)" in text
    assert "NOT_APPLICABLE: 1 findings of 1 checks not listed" in text
    assert text.index("Result: complete") > text.index("PASSED: 2 findings"), "the summary closes the view"
    assert not ANSI_COLOUR.search(text), "no colour when the output is not a terminal"


def test_show_passed_lists_them_after_what_failed() -> None:
    text = _view(mixed(), show_passed=True)
    statuses = [status for status, _, _ in _headers(text)]
    assert statuses == ["FAILED", "FAILED", "UNKNOWN", "PASSED", "PASSED"]
    assert re.search(r"^\s+us-east-1\s+orders-db$", text, re.M)
    assert "--show-passed" not in text
    assert _headers(_view(mixed(), show_passed=True, show_not_applicable=True))[-1][0] == "NOT_APPLICABLE"


def test_nothing_failing_says_so() -> None:
    text = _view([finding("rds-db-instance-multi-az", Status.PASSED, "us-east-1", "orders-db")])
    assert "Nothing failed and nothing is unknown." in text and _headers(text) == []


def test_several_accounts_name_the_account_of_each_resource() -> None:
    findings = [
        finding("rds-db-instance-multi-az", Status.FAILED, "us-east-1", "db", account="111111111111"),
        finding("rds-db-instance-multi-az", Status.FAILED, "us-east-1", "db", account="222222222222"),
    ]
    text = _view(findings)
    assert re.search(r"us-east-1\s+111111111111  db$", text, re.M) and re.search(r"222222222222  db$", text, re.M)


def _suppressed(name: str, expires: dt.date | None = dt.date(2027, 3, 31)) -> Finding:
    base = finding("rds-db-instance-multi-az", Status.FAILED, "us-east-1", name)
    held = Suppression(reason="decommissioned in Q1", expires=expires, source="tag")
    return base.model_copy(update={"suppression": held})


def test_suppressed_findings_are_listed_apart_with_source_expiry_and_reason() -> None:
    open_ = finding("rds-db-instance-multi-az", Status.FAILED, "us-east-1", "orders-db")
    text = _view([open_, _suppressed("legacy-db"), _suppressed("old-db", expires=None)])
    groups, listing = text.split("Suppressed (2):\n", 1)
    assert _headers(groups) == [("FAILED", "rds-db-instance-multi-az", 1)]
    assert "orders-db" in groups and "legacy-db" not in groups and "old-db" not in groups
    rows = {line.split()[4]: line.split()[5:] for line in listing.splitlines() if line.startswith("FAILED")}
    assert rows == {
        "legacy-db": ["tag", "2027-03-31", "decommissioned", "in", "Q1"],
        "old-db": ["tag", "-", "decommissioned", "in", "Q1"],
    }


def test_policy_notes_come_before_the_summary() -> None:
    notes = ["suppressions[0] (old) expired on 2020-01-31: it no longer applies"]
    out = io.StringIO()
    terminal.render(result([_suppressed("legacy-db")], policy_notes=notes, suppressed=1), out)
    text = out.getvalue()
    assert text.index("Policy notes:\n  suppressions[0] (old) expired on 2020-01-31") < text.index("Result: ")
    assert "Suppressed: 1" in text
    assert "Nothing failed but the suppressed findings below" in text, "every failure here is suppressed"


@pytest.mark.parametrize("no_color", [False, True])
def test_colour_on_a_terminal_unless_no_color(monkeypatch: pytest.MonkeyPatch, no_color: bool) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: treat the StringIO as a terminal
    monkeypatch.setenv("TERM", "xterm-256color")
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    text = _view(mixed())
    assert bool(ANSI_COLOUR.search(text)) is not no_color
    assert "rds-db-instance-multi-az" in text


def test_heat_map_counts_failed_among_judged_findings_per_service_and_region() -> None:
    heat = heat_map(mixed())
    assert heat.regions == ["eu-west-1", "us-east-1"]
    assert heat.services == ["SQS", "RDS"]  # most failures first (2 vs 1)
    assert (heat.cell("SQS", "us-east-1").failed, heat.cell("SQS", "us-east-1").judged) == (1, 2)
    assert heat.cell("SQS", "eu-west-1").share == 1.0, "NOT_APPLICABLE is no judgement"
    assert heat.cell("RDS", "us-east-1").share == 0.0, "UNKNOWN is no judgement"
    assert heat.cell("RDS", "ap-south-1").share is None
