"""AWS::SQS::Queue collector on moto: attributes typed, redrive parsed, DLQs marked."""

from __future__ import annotations

import json
from typing import Any

import boto3


def test_queues_across_pages_with_dead_letter_marks(aws: None, collect: Any, calls: Any, factory: Any) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "90"})
    sqs.create_queue(QueueName="shared-target")
    for i in range(3):
        sqs.create_queue(QueueName=f"plain-{i}")
    seen = calls("sqs")
    # moto 5.2 neither stores nor returns RedriveAllowPolicy ("Unknown Attribute"); add it to the
    # response the way SQS returns it: a JSON string.
    allow = json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [dlq_arn]})

    def add_allow_policy(parsed: dict[str, Any], **_: Any) -> None:
        if parsed["Attributes"]["QueueArn"].endswith(":shared-target"):
            parsed["Attributes"]["RedriveAllowPolicy"] = allow

    factory.client("sqs", "us-east-1").meta.events.register("after-call.sqs.GetQueueAttributes", add_allow_policy)

    docs = collect("AWS::SQS::Queue")

    assert len(docs) == 6
    assert seen.count("ListQueues") >= 3
    orders = docs["orders"].properties
    assert orders["RedrivePolicy"]["deadLetterTargetArn"] == dlq_arn
    assert orders["VisibilityTimeout"] == 90
    assert orders["IsDeadLetterQueue"] is False
    assert docs["orders-dlq"].properties["IsDeadLetterQueue"] is True
    assert docs["shared-target"].properties["DeclaresDeadLetterSources"] is True
    assert docs["plain-0"].properties["DeclaresDeadLetterSources"] is False
    assert docs["orders"].arn == "arn:aws:sqs:us-east-1:123456789012:orders"


def test_queue_deleted_between_list_and_read_is_skipped(aws: None, collect: Any, factory: Any) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.create_queue(QueueName="stays")
    gone = sqs.create_queue(QueueName="goes")["QueueUrl"]

    def delete_after_listing(**_: Any) -> None:
        sqs.delete_queue(QueueUrl=gone)

    factory.client("sqs", "us-east-1").meta.events.register("after-call.sqs.ListQueues", delete_after_listing)
    assert list(collect("AWS::SQS::Queue")) == ["stays"]
