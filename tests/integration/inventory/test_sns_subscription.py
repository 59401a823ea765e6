"""AWS::SNS::Subscription collector on moto: redrive policies parsed, DLQs probed for delivery."""

from __future__ import annotations

import json
from typing import Any

import boto3

from .lambda_support import ACCOUNT, queue

TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:orders"


def allow_sns(queue_arn: str, source: str = TOPIC) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": source}},
                }
            ],
        }
    )


def test_subscriptions_with_dead_letter_queues(aws: None, collect: Any) -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    sns.create_topic(Name="orders")
    url, good_dlq = queue("good-dlq")
    boto3.client("sqs", region_name="us-east-1").set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": allow_sns(f"arn:aws:sqs:us-east-1:{ACCOUNT}:good-dlq")}
    )
    _, closed_dlq = queue("closed-dlq")  # no queue policy: SNS cannot write to it
    _, other_topic_dlq = queue("wrong-source-dlq", Policy=allow_sns("x", source=f"{TOPIC}-other"))
    _, keyed_dlq = queue("keyed-dlq", KmsMasterKeyId="alias/aws/sqs", Policy=allow_sns("x"))
    # moto merges subscriptions with the same protocol and endpoint: every endpoint is distinct.
    targets = {
        "billing": good_dlq,
        "shipping": closed_dlq,
        "audit": f"arn:aws:sqs:us-east-1:{ACCOUNT}:deleted-dlq",
        "search": other_topic_dlq,
        "mail": keyed_dlq,
        "crm": "arn:aws:sqs:eu-west-1:210987654321:elsewhere",
        "plain": None,
    }
    for name, dlq in targets.items():
        attributes = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq})} if dlq else {}
        _, endpoint = queue(name)
        sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=endpoint, Attributes=attributes)
    sns.subscribe(TopicArn=TOPIC, Protocol="https", Endpoint="https://hooks.example.com/orders")

    docs = collect("AWS::SNS::Subscription")

    assert len(docs) == 8
    billing = docs["orders/sqs/billing"]
    assert billing.arn.startswith(f"{TOPIC}:")
    assert billing.properties["RedrivePolicy"]["deadLetterTargetArn"] == good_dlq
    assert billing.properties["DeadLetterQueue"] == {"Arn": good_dlq, "Exists": True, "AllowsDelivery": True}
    assert docs["orders/sqs/shipping"].properties["DeadLetterQueue"]["AllowsDelivery"] is False
    assert docs["orders/sqs/audit"].properties["DeadLetterQueue"]["Exists"] is False
    assert docs["orders/sqs/search"].properties["DeadLetterQueue"]["AllowsDelivery"] is False
    assert docs["orders/sqs/mail"].properties["DeadLetterQueue"]["AllowsDelivery"] is False
    assert docs["orders/sqs/crm"].properties["DeadLetterQueue"] is None, "another account: unknown, not broken"
    assert docs["orders/sqs/plain"].properties["DeadLetterQueue"] is None
    assert docs["orders/https/hooks.example.com"].properties["Protocol"] == "https"
    assert docs["orders/sqs/plain"].properties["PendingConfirmation"] is False
