"""`relaudit report` and the report formats of `relaudit audit`: bad input is exit 2 naming the flag."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relaudit import cli
from relaudit.sinks.dynamodb import ensure_table


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse's own rejections (exit 2, one line)
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "forever"], "--since: expected a span such as 30d, 12h or 2w"),
        (["--since", "0d"], "--since: expected a span"),
        (["--format", "ocsf"], "invalid choice: 'ocsf'"),
    ],
)
def test_bad_report_flags_exit_2_naming_the_flag(
    aws: None, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    code, _, err = _run(capsys, "report", "--table", "findings", *args)
    assert code == cli.EXIT_BAD_INPUT and fragment in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_table_is_named(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "report", "--table", "no-such-table")
    assert code == cli.EXIT_BAD_INPUT
    assert err.strip() == "relaudit: error: --table: table 'no-such-table' does not exist in us-east-1"
    code, _, err = _run(capsys, "report", "--table", "x")
    assert code == cli.EXIT_BAD_INPUT and "invalid table name 'x'" in err


def test_an_empty_table_has_no_runs(factory: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ensure_table(factory.client("dynamodb"), "empty-findings")
    code, out, _ = _run(capsys, "report", "--table", "empty-findings", "--format", "json")
    assert code == cli.EXIT_OK
    trend = json.loads(out)
    assert trend["runs"] == [] and trend["time_to_resolve"] == [] and trend["table"] == "empty-findings"


def test_html_audit_without_a_readable_table_warns_and_leaves_the_trend_out(
    factory: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    factory.client("sqs").create_queue(QueueName="emails")
    args = ("audit", "--regions", "us-east-1", "--checks", "sqs-queue-redrive-policy-configured")
    code, out, err = _run(capsys, *args, "--table", "absent-table", "--format", "html")
    assert code == cli.EXIT_OK
    assert "warning: the report has no trend" in err and "absent-table" in err
    assert out.startswith("<!DOCTYPE html>") and 'id="trend"' not in out and "emails" in out
