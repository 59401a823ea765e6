"""Scheduled runs are idempotent on the scheduled time (Powertools idempotency on the findings table)."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from relaudit import handlers
from relaudit.idempotency import EXPIRES_AFTER_SECONDS, STATIC_PK_VALUE
from relaudit.sinks.table_schema import TTL_ATTRIBUTE, create_table_kwargs
from tests.conftest import load_event

TABLE = "relaudit-findings"


@pytest.fixture
def account(aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """One queue, the findings table, and the environment template.yaml gives the function."""
    monkeypatch.setattr(handlers, "_cache", {})  # a fresh execution environment per test
    boto3.client("dynamodb").create_table(**create_table_kwargs(TABLE))
    for name, value in {
        "RELAUDIT_REGIONS": "us-east-1",
        "RELAUDIT_CHECKS": "sqs-queue-redrive-policy-configured",
        "RELAUDIT_IDEMPOTENCY_TABLE": TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("RELAUDIT_SINKS", "RELAUDIT_TABLE"):
        monkeypatch.delenv(name, raising=False)
    sqs = boto3.client("sqs")
    sqs.create_queue(QueueName="orders")
    return sqs


def _records() -> list[dict[str, Any]]:
    response = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": STATIC_PK_VALUE}},
    )
    items: list[dict[str, Any]] = response["Items"]
    return items


def test_one_firing_delivered_twice_audits_once(account: Any, lambda_context: Any) -> None:
    firing = load_event("scheduled")
    first = handlers.handler(firing, lambda_context)
    assert first["summary"]["resources"] == 1

    account.create_queue(QueueName="payments")  # the account changes between the two deliveries
    # A Scheduler retry: a new execution id and attempt number, the same scheduled time.
    retry = handlers.handler({**firing, "id": "e8a1c2d3f4a5b6c7", "attempt": "2"}, lambda_context)
    assert retry == first, "a repeated delivery returns the first run's result instead of auditing again"

    next_firing = handlers.handler({**firing, "time": "2026-11-23T06:00:00Z"}, lambda_context)
    assert next_firing["summary"]["resources"] == 2

    records = _records()
    assert len(records) == 2
    assert {record["status"]["S"] for record in records} == {"COMPLETED"}
    expires = [int(record[TTL_ATTRIBUTE]["N"]) for record in records]
    assert all(time.time() + EXPIRES_AFTER_SECONDS - 60 < e <= time.time() + EXPIRES_AFTER_SECONDS for e in expires)
    assert all("gsi1pk" not in record and "gsi2pk" not in record for record in records), "kept out of the indexes"


def test_on_demand_requests_always_run(account: Any, lambda_context: Any) -> None:
    request = {"regions": ["us-east-1"], "checks": ["sqs-queue-redrive-policy-configured"]}
    assert handlers.handler(request, lambda_context)["summary"]["resources"] == 1
    account.create_queue(QueueName="payments")
    assert handlers.handler(request, lambda_context)["summary"]["resources"] == 2
    assert _records() == []


def test_a_run_that_raised_leaves_no_record_so_the_retry_audits(account: Any, lambda_context: Any) -> None:
    sts = handlers._factory(16).client("sts")  # the client the planner will use (request.max_workers is 16)

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "ExpiredToken", "Message": "injected"}
        return AWSResponse("https://sts.local", 400, {}, None), {"Error": error}  # type: ignore[arg-type]

    event = "before-call.sts.GetCallerIdentity"
    sts.meta.events.register_first(event, refuse)
    with pytest.raises(Exception, match="cannot identify the AWS account"):
        handlers.handler(load_event("scheduled"), lambda_context)
    assert _records() == []

    sts.meta.events.unregister(event, refuse)
    assert handlers.handler(load_event("scheduled"), lambda_context)["summary"]["resources"] == 1
