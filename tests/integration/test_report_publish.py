"""The deployed function's reports: with RELAUDIT_REPORT_BUCKET (template.yaml ReportBucket) each run
writes its HTML report and OCSF events to S3, encrypted, under reports/<run id>/; a write that fails
leaves the findings delivered and the response partial."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relaudit import handlers
from relaudit.report.publish import REPORT_BUCKET_ENV, report_keys
from relaudit.sinks.dynamodb import ensure_table
from tests.support.html_check import external_loads
from tests.support.ocsf_schema import schema_errors

SQS_CHECK = "sqs-queue-redrive-policy-configured"
BUCKET = "relaudit-reports-test"
EVENT = {"regions": ["us-east-1"], "checks": [SQS_CHECK], "sinks": ["dynamodb"], "table": "lambda-findings"}


@pytest.fixture
def account(factory: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(handlers, "_cache", {})
    sqs = factory.client("sqs")
    sqs.create_queue(QueueName="emails")
    sqs.create_queue(QueueName="orders")
    ensure_table(factory.client("dynamodb"), EVENT["table"])
    return factory


def test_each_run_writes_its_html_and_ocsf_reports_encrypted(
    account: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = account.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    monkeypatch.setenv(REPORT_BUCKET_ENV, BUCKET)
    response = handlers.handler(dict(EVENT), lambda_context)
    assert response["status"] == "complete", response
    run_id = response["summary"]["run_id"]
    keys = report_keys(run_id)
    assert response["reports"] == {kind: f"s3://{BUCKET}/{key}" for kind, key in keys.items()}
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]) == sorted(keys.values())
    for key in keys.values():
        assert s3.head_object(Bucket=BUCKET, Key=key)["ServerSideEncryption"] == "AES256"

    page = s3.get_object(Bucket=BUCKET, Key=keys["html"])["Body"].read().decode()
    assert external_loads(page) == [] and run_id in page
    assert 'id="trend"' in page and f"<code>{run_id}</code>" in page, "the run just recorded is in the trend"
    events = json.loads(s3.get_object(Bucket=BUCKET, Key=keys["ocsf"])["Body"].read())
    assert len(events) == 2 and all(schema_errors(e) == [] for e in events)
    assert {e["resources"][0]["uid"].rsplit(":", 1)[-1] for e in events} == {"emails", "orders"}


def test_a_report_that_cannot_be_written_makes_the_response_partial(
    account: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REPORT_BUCKET_ENV, "no-such-report-bucket")
    response = handlers.handler(dict(EVENT), lambda_context)
    assert response["status"] == "partial"
    assert response["reports"] == {"error": "NoSuchBucket"}
    assert response["summary"]["result"] == "complete", "the findings were delivered; the summary stands"


def test_without_a_report_bucket_nothing_is_written(account: Any, lambda_context: Any) -> None:
    account.client("s3").create_bucket(Bucket=BUCKET)
    response = handlers.handler(dict(EVENT), lambda_context)
    assert "reports" not in response and response["status"] == "complete"
    assert account.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
