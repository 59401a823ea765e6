"""AWS::Events::Rule collector on moto: every bus, targets across pages, DLQs probed for delivery."""

from __future__ import annotations

import json
from typing import Any

import boto3

from .lambda_support import ACCOUNT, queue

FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:handler"
# moto 5.2 pages ListTargetsByRule on the target Arn: targets sharing an Arn make it return the same
# NextToken forever (botocore raises PaginationError), so each target here gets its own function.


def allow_events(rule_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": ["sqs:SendMessage"],
                    "Resource": "*",
                    "Condition": {"ArnLike": {"aws:SourceArn": rule_arn}},
                }
            ],
        }
    )


def test_rules_on_every_bus_with_targets(aws: None, collect: Any, calls: Any) -> None:
    events = boto3.client("events", region_name="us-east-1")
    events.create_event_bus(Name="orders")
    _, dlq = queue("rules-dlq", Policy=allow_events(f"arn:aws:events:us-east-1:{ACCOUNT}:rule/*"))
    _, closed = queue("closed-dlq")
    for i in range(3):
        events.put_rule(Name=f"nightly-{i}", ScheduleExpression="rate(1 day)")
    events.put_rule(Name="placed", EventBusName="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(
        Rule="placed",
        EventBusName="orders",
        Targets=[
            {
                "Id": "a",
                "Arn": f"{FUNCTION}-a",
                "DeadLetterConfig": {"Arn": dlq},
                "RetryPolicy": {"MaximumRetryAttempts": 3},
            },
            {"Id": "b", "Arn": f"{FUNCTION}-b", "DeadLetterConfig": {"Arn": closed}},
            {"Id": "c", "Arn": f"{FUNCTION}-c"},
        ],
    )
    seen = calls("events")

    docs = collect("AWS::Events::Rule")

    assert sorted(docs) == ["nightly-0", "nightly-1", "nightly-2", "orders/placed"]
    placed = docs["orders/placed"]
    assert placed.arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/orders/placed"
    assert placed.properties["TargetCount"] == 3
    targets = {t["Id"]: t for t in placed.properties["Targets"]}
    assert targets["a"]["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert targets["a"]["DeadLetterQueue"] == {"Arn": dlq, "Exists": True, "AllowsDelivery": True}
    assert targets["b"]["DeadLetterQueue"]["AllowsDelivery"] is False
    assert targets["c"]["DeadLetterQueue"] is None
    assert docs["nightly-0"].properties["TargetCount"] == 0
    assert seen.count("ListRules") >= 3, "rules on the default bus span two pages of 2"
    assert seen.count("ListTargetsByRule") >= 5, "three targets span two pages of 2"


def test_cloudtrail_enabled_rule_and_bus_forwarding_judged(aws: None, collect: Any) -> None:
    from .catalog_support import verdicts

    events = boto3.client("events", region_name="us-east-1")
    pattern = json.dumps({"source": ["aws.s3"]})
    # PutRule's third state: enabled, and matching management events CloudTrail delivers read-only.
    events.put_rule(Name="audit", EventPattern=pattern, State="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
    events.put_targets(Rule="audit", Targets=[{"Id": "a", "Arn": f"{FUNCTION}-audit"}])
    events.put_rule(Name="forward", EventPattern=pattern)
    central = "arn:aws:events:us-east-1:444455556666:event-bus/central"
    role = f"arn:aws:iam::{ACCOUNT}:role/forwarder"
    events.put_targets(Rule="forward", Targets=[{"Id": "bus", "Arn": central, "RoleArn": role}])

    docs = collect("AWS::Events::Rule")

    assert docs["audit"].properties["State"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    retry = verdicts("events-rule-targets-retry-policy-set", docs)
    assert retry == {"audit": "FAILED", "forward": "NOT_APPLICABLE"}, "a bus target can never take a RetryPolicy"
    assert verdicts("events-rule-targets-dlq-configured", docs) == {"audit": "FAILED", "forward": "FAILED"}


def test_dlq_policy_with_arn_equals_wildcard_allows_delivery(aws: None, collect: Any) -> None:
    """IAM's ArnEquals takes wildcards exactly as ArnLike does (relaudit used to compare it as a
    plain string and flag the queue as refusing EventBridge: a false FAILED)."""
    from .catalog_support import verdicts

    policy = json.loads(allow_events("unused"))
    policy["Statement"][0]["Condition"] = {"ArnEquals": {"aws:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/*"}}
    _, open_dlq = queue("open-dlq", Policy=json.dumps(policy))
    policy["Statement"][0]["Condition"] = {
        "ArnEquals": {"aws:SourceArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/x*"}
    }
    _, narrow_dlq = queue("narrow-dlq", Policy=json.dumps(policy))
    events = boto3.client("events", region_name="us-east-1")
    for name, dlq in (("orders", open_dlq), ("billing", narrow_dlq)):
        events.put_rule(Name=name, ScheduleExpression="rate(1 hour)")
        events.put_targets(
            Rule=name, Targets=[{"Id": "t", "Arn": f"{FUNCTION}-{name}", "DeadLetterConfig": {"Arn": dlq}}]
        )

    docs = collect("AWS::Events::Rule")

    assert docs["orders"].properties["Targets"][0]["DeadLetterQueue"]["AllowsDelivery"] is True
    assert verdicts("events-rule-target-dlqs-deliverable", docs) == {"orders": "PASSED", "billing": "FAILED"}
