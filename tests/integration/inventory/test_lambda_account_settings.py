"""AWS::Lambda::AccountSettings collector: one document per account and region.

moto 5.2 answers GetAccountSettings with 404 "Not yet implemented", so the call is answered by a
before-call hook shaped like the real API; the CloudWatch part runs on moto.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from relaudit.inventory import load_collector
from relaudit.inventory.base import CollectorContext

from .lambda_support import ACCOUNT, answer

SETTINGS = {
    "AccountLimit": {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 1000,
        "UnreservedConcurrentExecutions": 150,
    },
    "AccountUsage": {"TotalCodeSize": 1234, "FunctionCount": 12},
}


def test_moto_still_lacks_get_account_settings(aws: None, factory: Any) -> None:
    """If moto implements it, the hook in the next tests can go."""
    with pytest.raises(ClientError):
        factory.client("lambda", "us-east-1").get_account_settings()


def test_one_document_with_headroom_and_peak(aws: None, factory: Any, collect: Any) -> None:
    answer(factory.client("lambda", "us-east-1"), "GetAccountSettings", SETTINGS)
    now = dt.datetime.now(dt.UTC)
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": "ConcurrentExecutions", "Value": value, "Timestamp": now - dt.timedelta(hours=hours)}
            for value, hours in ((300.0, 30), (850.0, 5), (20.0, 400))  # the last is older than a week
        ],
    )

    docs = collect("AWS::Lambda::AccountSettings")

    assert list(docs) == ["lambda-account-settings/us-east-1"]
    doc = docs["lambda-account-settings/us-east-1"]
    assert doc.arn == f"arn:aws:lambda:us-east-1:{ACCOUNT}:account-settings"
    assert doc.properties["ConcurrencyLimit"] == 1000
    assert doc.properties["UnreservedConcurrency"] == 150
    assert doc.properties["ReservedConcurrencyTotal"] == 850
    assert doc.properties["UnreservedConcurrencyPercent"] == 15.0
    assert doc.properties["PeakConcurrentExecutions"] == 850.0
    assert doc.properties["PeakConcurrencyPercent"] == 85.0


def test_peak_is_read_only_when_a_check_needs_it(aws: None, factory: Any) -> None:
    answer(factory.client("lambda", "us-east-1"), "GetAccountSettings", SETTINGS)
    seen: list[str] = []
    factory.client("cloudwatch", "us-east-1").meta.events.register(
        "before-call", lambda model, **_: seen.append(model.name)
    )
    ctx = CollectorContext(
        ACCOUNT, "us-east-1", factory.bound("us-east-1"), needs=frozenset({"UnreservedConcurrency", "_params"})
    )
    (doc,) = load_collector("AWS::Lambda::AccountSettings").collect(ctx)
    assert "PeakConcurrentExecutions" not in doc.properties
    assert seen == []
