"""A whole audit of a seeded serverless account: each defect found once, every DLQ left alone.

One region on moto, the serverless, messaging and API checks only. Queues that serve as DLQs of a
Lambda function, an SNS subscription, an EventBridge target or an event source mapping must not
be flagged for lacking their own DLQ; the account-level checks give one finding per region.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.models.request import AuditRequest
from relaudit.run import run

from .inventory.lambda_support import ACCOUNT, alarm, answer, function_maker, queue

REGION = "us-east-1"
CATALOG = load_catalog(known_types=COLLECTORS)
TYPES = {
    "AWS::Lambda::Function",
    "AWS::Lambda::AccountSettings",
    "AWS::Lambda::EventSourceMapping",
    "AWS::SQS::Queue",
    "AWS::SNS::Subscription",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::StepFunctions::StateMachine",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::Account",
    "AWS::ApiGatewayV2::Stage",
}
CHECKS = sorted(c.id for c in CATALOG.checks.values() if c.definition.resource_type in TYPES)


def allow(service: str, queue_name: str, source: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sqs:SendMessage",
                    "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}",
                    "Condition": {"ArnEquals": {"aws:SourceArn": source}},
                }
            ],
        }
    )


def seed_messaging() -> None:
    make = function_maker()
    lam = boto3.client("lambda", region_name=REGION)
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:orders-topic"
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly"
    _, orders_dlq = queue("orders-dlq", MessageRetentionPeriod="1209600")
    redrive = json.dumps({"deadLetterTargetArn": orders_dlq, "maxReceiveCount": 5})
    _, orders = queue("orders", VisibilityTimeout="180", MessageRetentionPeriod="345600", RedrivePolicy=redrive)
    _, emails = queue("emails", VisibilityTimeout="30")
    _, async_failures = queue("async-failures")
    _, stream_failures = queue("stream-failures")
    _, sub_dlq = queue("sub-dlq", Policy=allow("sns.amazonaws.com", "sub-dlq", topic))
    _, rule_dlq = queue("rule-dlq", Policy=allow("events.amazonaws.com", "rule-dlq", rule))
    for name in ("orders-dlq", "async-failures", "stream-failures", "sub-dlq", "rule-dlq"):
        alarm(f"{name}-depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name)

    make("worker", Timeout=30)
    make("mailer", Timeout=30)
    lam.put_function_concurrency(FunctionName="worker", ReservedConcurrentExecutions=10)
    lam.create_event_source_mapping(
        EventSourceArn=orders,
        FunctionName="worker",
        ScalingConfig={"MaximumConcurrency": 10},
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    lam.put_function_concurrency(FunctionName="mailer", ReservedConcurrentExecutions=5)
    lam.create_event_source_mapping(EventSourceArn=emails, FunctionName="mailer")  # defects: no max, no partial

    notifier = make("notifier", Timeout=10)
    lam.add_permission(
        FunctionName="notifier", StatementId="sns", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com"
    )
    lam.put_function_event_invoke_config(
        FunctionName="notifier",
        MaximumRetryAttempts=0,
        MaximumEventAgeInSeconds=600,
        DestinationConfig={"OnFailure": {"Destination": async_failures}},
    )
    handler = make("events-handler", Timeout=10)  # defects: async without DLQ, default age, retries
    lam.add_permission(
        FunctionName="events-handler",
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
    )

    sns = boto3.client("sns", region_name=REGION)
    sns.create_topic(Name="orders-topic")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=orders,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": sub_dlq})},
    )
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=notifier)  # defect: no DLQ

    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(
        Rule="nightly",
        Targets=[
            {
                "Id": "h",
                "Arn": handler,
                "DeadLetterConfig": {"Arn": rule_dlq},
                "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600},
            }
        ],
    )
    events.put_rule(Name="audit", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="audit", Targets=[{"Id": "h", "Arn": handler}])  # defect: no DLQ

    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
    make("indexer", Timeout=60)
    lam.create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="indexer",
        StartingPosition="LATEST",
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=3,
        MaximumRecordAgeInSeconds=3600,
        DestinationConfig={"OnFailure": {"Destination": stream_failures}},
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    kinesis.create_stream(StreamName="views", ShardCount=1)
    views = kinesis.describe_stream_summary(StreamName="views")["StreamDescriptionSummary"]["StreamARN"]
    lam.create_event_source_mapping(EventSourceArn=views, FunctionName="indexer", StartingPosition="LATEST")


def seed_apis() -> None:
    apigw = boto3.client("apigateway", region_name=REGION)
    for name, throttled in (("storefront", True), ("internal", False)):
        api = apigw.create_rest_api(name=name)["id"]
        root = apigw.get_resources(restApiId=api)["items"][0]["id"]
        apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        apigw.create_deployment(restApiId=api, stageName="prod")
        if throttled:
            apigw.update_stage(
                restApiId=api,
                stageName="prod",
                patchOperations=[{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"}],
            )


@pytest.fixture
def seeded(aws: None, factory: Any) -> None:
    seed_messaging()
    seed_apis()
    answer(
        factory.client("lambda", REGION),
        "GetAccountSettings",
        {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 985}, "AccountUsage": {}},
    )


EXPECTED = {
    # four DLQ or redrive settings, each missing once and present once
    ("sqs-queue-redrive-policy-configured", "orders"): "PASSED",
    ("sqs-queue-redrive-policy-configured", "emails"): "FAILED",
    ("lambda-function-async-failure-captured", "notifier"): "PASSED",
    ("lambda-function-async-failure-captured", "events-handler"): "FAILED",
    ("sns-subscription-redrive-policy-configured", "orders-topic/sqs/orders"): "PASSED",
    ("sns-subscription-redrive-policy-configured", "orders-topic/lambda/notifier"): "FAILED",
    ("events-rule-targets-dlq-configured", "nightly"): "PASSED",
    ("events-rule-targets-dlq-configured", "audit"): "FAILED",
    ("lambda-event-source-mapping-on-failure-destination", "indexer/clicks"): "PASSED",
    ("lambda-event-source-mapping-on-failure-destination", "indexer/views"): "FAILED",
    # queues that are DLQs or failure destinations are not asked for a DLQ of their own
    ("sqs-queue-redrive-policy-configured", "orders-dlq"): "NOT_APPLICABLE",
    ("sqs-queue-redrive-policy-configured", "async-failures"): "NOT_APPLICABLE",
    ("sqs-queue-redrive-policy-configured", "stream-failures"): "NOT_APPLICABLE",
    ("sqs-queue-redrive-policy-configured", "sub-dlq"): "NOT_APPLICABLE",
    ("sqs-queue-redrive-policy-configured", "rule-dlq"): "NOT_APPLICABLE",
    ("sqs-queue-dlq-depth-alarm-configured", "sub-dlq"): "PASSED",
    ("sns-subscription-dlq-deliverable", "orders-topic/sqs/orders"): "PASSED",
    ("events-rule-target-dlqs-deliverable", "nightly"): "PASSED",
    ("sqs-queue-dlq-retention-exceeds-sources", "orders-dlq"): "PASSED",
    # retries, timeouts and concurrency
    ("sqs-queue-visibility-timeout-covers-consumers", "orders"): "PASSED",
    ("sqs-queue-visibility-timeout-covers-consumers", "emails"): "FAILED",
    ("lambda-event-source-mapping-sqs-max-concurrency-within-reserved", "worker/orders"): "PASSED",
    ("lambda-event-source-mapping-sqs-max-concurrency-within-reserved", "mailer/emails"): "FAILED",
    ("lambda-event-source-mapping-stream-retries-bounded", "indexer/clicks"): "PASSED",
    ("lambda-event-source-mapping-stream-retries-bounded", "indexer/views"): "FAILED",
    ("lambda-function-async-event-age-bounded", "notifier"): "PASSED",
    ("lambda-function-async-event-age-bounded", "events-handler"): "FAILED",
    ("lambda-function-async-event-age-bounded", "worker"): "NOT_APPLICABLE",
    ("lambda-function-reserved-concurrency-set", "worker"): "PASSED",
    # A stream consumer's concurrency is bounded by its shards: no ceiling is asked of it.
    ("lambda-function-reserved-concurrency-set", "indexer"): "NOT_APPLICABLE",
    # API Gateway stage throttling
    ("apigateway-stage-throttling-configured", "storefront/prod"): "PASSED",
    ("apigateway-stage-throttling-configured", "internal/prod"): "FAILED",
    # account level: one finding per account and region
    ("lambda-account-unreserved-concurrency-headroom", f"lambda-account-settings/{REGION}"): "PASSED",
    ("apigateway-account-stage-throttle-budget", f"apigateway-account/{REGION}"): "PASSED",
}


def test_each_defect_found_and_no_dead_letter_queue_flagged(seeded: None, factory: Any) -> None:
    result = run(AuditRequest(regions=[REGION], checks=CHECKS), CATALOG, factory)

    found = {(f.check_id, f.resource_name): f.status.value for f in result.findings}
    assert {key: found.get(key) for key in EXPECTED} == EXPECTED
    assert result.coverage_gaps == []
    redrive_failures = {
        n for (c, n), s in found.items() if c == "sqs-queue-redrive-policy-configured" and s == "FAILED"
    }
    assert redrive_failures == {"emails"}
    for check in ("lambda-account-unreserved-concurrency-headroom", "apigateway-account-stage-throttle-budget"):
        assert sum(1 for f in result.findings if f.check_id == check) == 1
