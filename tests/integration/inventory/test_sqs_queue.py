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


def test_consumers_dead_letter_users_retention_and_alarms(aws: None, collect: Any, factory: Any) -> None:
    from .lambda_support import alarm, function_maker, queue

    make = function_maker()
    lam = boto3.client("lambda", region_name="us-east-1")
    _, jobs_dlq = queue("jobs-dlq", MessageRetentionPeriod="345600")
    redrive = json.dumps({"deadLetterTargetArn": jobs_dlq, "maxReceiveCount": "4"})
    _, jobs = queue("jobs", VisibilityTimeout="60", MessageRetentionPeriod="345600", RedrivePolicy=redrive)
    deleted_url, deleted = queue("deleted")  # moto checks the target exists; delete it afterwards
    queue("orphan", RedrivePolicy=json.dumps({"deadLetterTargetArn": deleted, "maxReceiveCount": 3}))
    boto3.client("sqs", region_name="us-east-1").delete_queue(QueueUrl=deleted_url)
    _, fn_dlq = queue("fn-dlq")
    _, async_failures = queue("async-failures")
    _, stream_failures = queue("stream-failures")
    _, sub_dlq = queue("sub-dlq")
    _, rule_dlq = queue("rule-dlq")
    _, work = queue("work", VisibilityTimeout="180")

    make("worker", Timeout=30)
    make("batcher", Timeout=10)
    make("with-dlq", DeadLetterConfig={"TargetArn": fn_dlq})
    lam.create_event_source_mapping(EventSourceArn=jobs, FunctionName="worker")
    lam.create_event_source_mapping(EventSourceArn=work, FunctionName="worker")
    lam.create_event_source_mapping(EventSourceArn=work, FunctionName="batcher", MaximumBatchingWindowInSeconds=20)
    lam.put_function_event_invoke_config(
        FunctionName="batcher", DestinationConfig={"OnFailure": {"Destination": async_failures}}
    )
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
    lam.create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="batcher",
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": stream_failures}},
    )
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=work,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": sub_dlq})},
    )
    events = boto3.client("events", region_name="us-east-1")
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(Rule="nightly", Targets=[{"Id": "w", "Arn": work, "DeadLetterConfig": {"Arn": rule_dlq}}])
    alarm("jobs-dlq-depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "jobs-dlq")

    # moto 5.2 drops DeadLetterConfig on CreateFunction; put it back into ListFunctions as AWS returns it.
    def add_dlq(parsed: dict[str, Any], **_: Any) -> None:
        for function in parsed.get("Functions", []):
            if function["FunctionName"] == "with-dlq":
                function["DeadLetterConfig"] = {"TargetArn": fn_dlq}

    factory.client("lambda", "us-east-1").meta.events.register("after-call.lambda.ListFunctions", add_dlq)

    docs = {name: doc.properties for name, doc in collect("AWS::SQS::Queue").items()}

    assert docs["jobs"]["RedrivePolicy"]["maxReceiveCount"] == 4, "a string maxReceiveCount is made a number"
    assert docs["jobs"]["ConsumerTimeoutMultiple"] == 2.0
    assert [c["Timeout"] for c in docs["jobs"]["ConsumerFunctions"]] == [30]
    assert docs["work"]["ConsumerTimeoutMultiple"] == 6.0, "min of 180/30 and (180-20)/10"
    assert docs["jobs-dlq"]["ConsumerFunctions"] == []
    assert docs["jobs-dlq"]["ConsumerTimeoutMultiple"] is None
    users = {name: {s["Type"] for s in docs[name]["DeadLetterSources"]} for name in docs}
    assert users["jobs-dlq"] == {"AWS::SQS::Queue"}
    assert users["fn-dlq"] == {"AWS::Lambda::Function"}
    assert users["async-failures"] == {"AWS::Lambda::Function"}
    assert users["stream-failures"] == {"AWS::Lambda::EventSourceMapping"}
    assert users["sub-dlq"] == {"AWS::SNS::Subscription"}
    assert users["rule-dlq"] == {"AWS::Events::Rule"}
    assert users["work"] == set()
    assert all(docs[name]["IsDeadLetterQueue"] for name in users if users[name])
    assert docs["work"]["IsDeadLetterQueue"] is False
    assert docs["jobs-dlq"]["SourceQueuesMaxRetentionPeriod"] == 345600
    assert docs["fn-dlq"]["SourceQueuesMaxRetentionPeriod"] is None
    assert docs["jobs"]["DeadLetterTargetExists"] is True
    assert docs["orphan"]["DeadLetterTargetExists"] is False
    assert docs["work"]["DeadLetterTargetExists"] is None
    assert docs["jobs-dlq"]["Alarms"]["ApproximateNumberOfMessagesVisible"][0]["AlarmName"] == "jobs-dlq-depth"
    assert docs["jobs"]["Alarms"] == {"ApproximateNumberOfMessagesVisible": [], "ApproximateAgeOfOldestMessage": []}


def test_dead_letter_joins_only_when_a_check_reads_them(aws: None, factory: Any) -> None:
    from relaudit.inventory import load_collector
    from relaudit.inventory.base import CollectorContext

    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.create_queue(QueueName="solo")
    seen: list[str] = []
    for service in ("lambda", "sns", "events", "scheduler", "cloudwatch"):
        factory.client(service, "us-east-1").meta.events.register(
            "before-call", lambda model, **_: seen.append(model.name)
        )
    ctx = CollectorContext(
        "123456789012", "us-east-1", factory.bound("us-east-1"), needs=frozenset({"RedrivePolicy", "maxReceiveCount"})
    )
    (doc,) = load_collector("AWS::SQS::Queue").collect(ctx)
    assert seen == []
    assert doc.properties["IsDeadLetterQueue"] is False, "other queues' redrive policies are still read (free)"


def test_refused_joins_leave_fields_out_and_mark_the_unit_incomplete(aws: None, factory: Any) -> None:
    from relaudit.catalog.evaluate import status_of
    from relaudit.catalog.loader import load_catalog
    from relaudit.inventory import COLLECTORS, load_collector
    from relaudit.inventory.base import CollectorContext

    from .lambda_support import queue, refuse

    _, dlq = queue("jobs-dlq")
    queue("jobs", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq, "maxReceiveCount": 5}))
    queue("rule-dlq")  # an EventBridge DLQ the collector cannot see: ListRules is refused
    refuse(factory.client("events", "us-east-1"), "ListRules")
    refuse(factory.client("cloudwatch", "us-east-1"), "DescribeAlarms")
    ctx = CollectorContext("123456789012", "us-east-1", factory.bound("us-east-1"))

    docs = {doc.name: doc.properties for doc in load_collector("AWS::SQS::Queue").collect(ctx)}

    assert sorted(field for field, _ in ctx.incomplete) == ["Alarms", "DeadLetterSources"]
    assert docs["jobs-dlq"]["IsDeadLetterQueue"] is True, "known from the other queue's redrive policy"
    assert "IsDeadLetterQueue" not in docs["rule-dlq"], "unknown, not False"
    assert "Alarms" not in docs["jobs"]
    assert docs["jobs"]["ConsumerFunctions"] == [], "the Lambda join still worked"
    catalog = load_catalog(known_types=COLLECTORS)
    redrive = catalog.checks["sqs-queue-redrive-policy-configured"]
    assert str(status_of(redrive, docs["rule-dlq"])) == "NOT_APPLICABLE", "no false alarm on a possible DLQ"
    assert str(status_of(catalog.checks["sqs-queue-dlq-depth-alarm-configured"], docs["jobs-dlq"])) == "NOT_APPLICABLE"


def test_scheduler_target_dead_letter_queue_is_a_dead_letter_queue(aws: None, collect: Any) -> None:
    from .catalog_support import verdicts
    from .lambda_support import ACCOUNT, queue

    _, dlq = queue("schedule-dlq")
    queue("work")
    boto3.client("scheduler", region_name="us-east-1").create_schedule(
        Name="nightly",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:job",
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
            "DeadLetterConfig": {"Arn": dlq},
        },
    )

    docs = collect("AWS::SQS::Queue")

    assert docs["schedule-dlq"].properties["IsDeadLetterQueue"] is True
    assert [s["Type"] for s in docs["schedule-dlq"].properties["DeadLetterSources"]] == ["AWS::Scheduler::Schedule"]
    # a DLQ is not asked for a DLQ of its own
    assert verdicts("sqs-queue-redrive-policy-configured", docs) == {"schedule-dlq": "NOT_APPLICABLE", "work": "FAILED"}
