"""AWS::Lambda::EventSourceMapping collector on moto: SQS, Kinesis and DynamoDB stream sources,
with the function's reserved concurrency and IteratorAge alarms joined."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from relaudit.inventory import load_collector
from relaudit.inventory.base import CollectorContext

from .lambda_support import ACCOUNT, alarm, function_maker, queue


@pytest.fixture
def sources(aws: None) -> dict[str, str]:
    _, orders = queue("orders")
    _, failures = queue("failures")
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
    table = boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="carts",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    return {"orders": orders, "failures": failures, "clicks": stream, "carts": table["LatestStreamArn"]}


def test_mappings_with_kinds_and_joins(sources: dict[str, str], collect: Any) -> None:
    make = function_maker()
    lam = boto3.client("lambda", region_name="us-east-1")
    make("worker")
    make("indexer")
    lam.put_function_concurrency(FunctionName="worker", ReservedConcurrentExecutions=5)
    lam.create_event_source_mapping(
        EventSourceArn=sources["orders"],
        FunctionName="worker",
        ScalingConfig={"MaximumConcurrency": 10},
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    lam.create_event_source_mapping(
        EventSourceArn=sources["clicks"],
        FunctionName="indexer",
        StartingPosition="LATEST",
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=3,
        MaximumRecordAgeInSeconds=3600,
        DestinationConfig={"OnFailure": {"Destination": sources["failures"]}},
    )
    lam.create_event_source_mapping(EventSourceArn=sources["carts"], FunctionName="indexer", StartingPosition="LATEST")
    alarm("indexer-lag", "AWS/Lambda", "IteratorAge", "FunctionName", "indexer")

    docs = collect("AWS::Lambda::EventSourceMapping")

    assert sorted(docs) == ["indexer/carts", "indexer/clicks", "worker/orders"]
    orders = docs["worker/orders"].properties
    assert (orders["SourceKind"], orders["IsStream"]) == ("sqs", False)
    assert orders["FunctionReservedConcurrency"] == 5
    assert orders["ScalingConfig"]["MaximumConcurrency"] == 10
    assert docs["worker/orders"].arn.startswith(f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:")
    clicks = docs["indexer/clicks"].properties
    assert (clicks["SourceKind"], clicks["IsStream"]) == ("kinesis", True)
    assert clicks["FunctionReservedConcurrency"] is None
    assert clicks["DestinationConfig"]["OnFailure"]["Destination"] == sources["failures"]
    assert clicks["IteratorAgeAlarms"] == [
        {"AlarmName": "indexer-lag", "Actionable": True, "MetricName": "IteratorAge"}
    ]
    carts = docs["indexer/carts"].properties
    assert (carts["SourceKind"], carts["IsStream"]) == ("dynamodb", True)
    # moto leaves MaximumRetryAttempts/MaximumRecordAgeInSeconds out when unset (AWS returns -1);
    # the checks read a missing value as -1, so both shapes fail them.
    assert carts.get("MaximumRetryAttempts", -1) == -1
    assert docs["worker/orders"].properties["IteratorAgeAlarms"] == []


def test_enrichment_calls_follow_the_checks(sources: dict[str, str], factory: Any) -> None:
    make = function_maker()
    make("worker")
    lam = boto3.client("lambda", region_name="us-east-1")
    for _ in range(2):  # two mappings of one function: GetFunction once
        name = f"q{_}"
        _, arn = queue(name)
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="worker")
    seen: list[str] = []
    for service in ("lambda", "cloudwatch"):
        factory.client(service, "us-east-1").meta.events.register(
            "before-call", lambda model, **_: seen.append(model.name)
        )
    collector = load_collector("AWS::Lambda::EventSourceMapping")

    bare = CollectorContext(ACCOUNT, "us-east-1", factory.bound("us-east-1"), needs=frozenset({"IsStream"}))
    assert len(list(collector.collect(bare))) == 2
    assert seen == ["ListEventSourceMappings"]

    seen.clear()
    joined = CollectorContext(ACCOUNT, "us-east-1", factory.bound("us-east-1"), page_size=1)
    docs = list(collector.collect(joined))
    assert len(docs) == 2
    assert seen.count("GetFunction") == 1
    assert seen.count("DescribeAlarms") == 1


@pytest.mark.parametrize(
    ("mapping", "kind", "name"),
    [
        ({"EventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/logs/abc-1"}, "kafka", "logs"),
        ({"EventSourceArn": "arn:aws:mq:us-east-1:123456789012:broker:orders:b-123"}, "mq", "orders"),
        ({"SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b:9092"]}}}, "kafka", "self-managed"),
        ({"EventSourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/carts/stream/2026"}, "dynamodb", "carts"),
    ],
)
def test_source_kind_and_name_of_other_sources(mapping: dict[str, Any], kind: str, name: str) -> None:
    from relaudit.inventory.lambda_event_source_mapping import _source_name
    from relaudit.inventory.listings import source_kind

    assert (source_kind(mapping), _source_name(mapping)) == (kind, name)
