"""The sinks from the outside: `relaudit audit --sink ... --table ... --create-table`, and the Lambda handler."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relaudit import cli, handlers
from relaudit.sinks.dynamodb import FindingsTable, ensure_table
from tests.conftest import load_event
from tests.integration.sinks.helpers import ACCOUNT, all_sh_findings

SQS_CHECK = "sqs-queue-redrive-policy-configured"


@pytest.fixture
def two_queues(factory: Any) -> None:
    sqs = factory.client("sqs")
    sqs.create_queue(QueueName="emails")
    sqs.create_queue(QueueName="orders")


def test_cli_publishes_to_both_sinks_and_creates_the_table(
    factory: Any, two_queues: None, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    args = ["audit", "--regions", "us-east-1", "--checks", SQS_CHECK, "--format", "json", "--output", str(out)]
    sinks = ["--sink", "securityhub", "--sink", "dynamodb", "--table", "cli-findings", "--create-table"]
    assert cli.main(args + sinks) == cli.EXIT_OK
    assert "created table cli-findings" in capsys.readouterr().err
    report = json.loads(out.read_text())
    assert set(report) == {"summary", "findings", "coverage_gaps"}, "the JSON contract keeps its keys"
    assert [s["sink"] for s in report["summary"]["sinks"]] == ["securityhub", "dynamodb"]
    assert report["summary"]["undelivered_findings"] == 0 and report["summary"]["run_id"]
    in_hub = sorted(f["Id"] for f in all_sh_findings(factory.client("securityhub")))
    assert in_hub == sorted(f["id"] for f in report["findings"]), "the ASFF Id is the JSON id"
    table = FindingsTable(factory.client("dynamodb"), "cli-findings")
    assert len(table.current(ACCOUNT, "us-east-1")) == 2
    # Again, table present: no "created" message, no duplicate.
    assert cli.main(args + sinks) == cli.EXIT_OK
    assert "created table" not in capsys.readouterr().err
    assert len(all_sh_findings(factory.client("securityhub"))) == 2


def test_cli_table_output_shows_the_sinks(factory: Any, two_queues: None, capsys: pytest.CaptureFixture[str]) -> None:
    ensure_table(factory.client("dynamodb"), "cli-findings")
    code = cli.main(
        ["audit", "--regions", "us-east-1", "--checks", SQS_CHECK, "--sink", "dynamodb", "--table", "cli-findings"]
    )
    assert code == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "Sinks:\ndynamodb: 2 delivered, 2 history" in out


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--sink", "securityhub"], "--table: the securityhub sink needs a findings table"),
        (["--create-table"], "--create-table: name the table with --table NAME"),
        (["--sink", "email"], "invalid choice: 'email'"),
    ],
)
def test_cli_sink_flags_are_validated(
    aws: None, extra: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = cli.main(["audit", "--regions", "us-east-1", *extra])
    except SystemExit as exc:  # argparse rejects an unknown choice itself (exit 2, one line)
        code = int(exc.code or 0)
    assert code == cli.EXIT_BAD_INPUT
    assert fragment in capsys.readouterr().err


def test_cli_exits_partial_when_findings_are_undelivered(
    factory: Any, two_queues: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # The table does not exist (and --create-table is not given): nothing can be published.
    code = cli.main(
        ["audit", "--regions", "us-east-1", "--checks", SQS_CHECK, "--sink", "dynamodb", "--table", "absent"]
    )
    assert code == cli.EXIT_PARTIAL
    out = capsys.readouterr().out
    assert "Undelivered findings: 2" in out and "ResourceNotFoundException" in out


def test_scheduled_handler_writes_both_sinks_from_its_environment(
    factory: Any, two_queues: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "_cache", {})
    ensure_table(factory.client("dynamodb"), "lambda-findings")
    for name, value in {
        "RELAUDIT_REGIONS": "us-east-1",
        "RELAUDIT_CHECKS": SQS_CHECK,
        "RELAUDIT_SINKS": "securityhub,dynamodb",
        "RELAUDIT_TABLE": "lambda-findings",
    }.items():
        monkeypatch.setenv(name, value)
    response = handlers.handler(load_event("scheduled"), lambda_context)
    assert response["status"] == "complete", response
    assert {s["sink"]: s["delivered"] for s in response["summary"]["sinks"]} == {"securityhub": 2, "dynamodb": 2}
    assert len(all_sh_findings(factory.client("securityhub"))) == 2
    (record,) = FindingsTable(factory.client("dynamodb"), "lambda-findings").runs()
    assert record["run_id"] == response["summary"]["run_id"]


def test_handler_names_the_missing_table(aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "_cache", {})
    response = handlers.handler({"regions": ["us-east-1"], "sinks": ["securityhub"]}, lambda_context)
    assert response["status"] == "error" and response["error"]["field"] == "table"
