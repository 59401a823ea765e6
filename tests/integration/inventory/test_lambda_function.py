"""AWS::Lambda::Function collector on moto: concurrency, async config, subnet AZs, DLQ."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest

ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": []})


def code() -> dict[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return e\n")
    return {"ZipFile": buffer.getvalue()}


@pytest.fixture
def lam(aws: None) -> Any:
    return boto3.client("lambda", region_name="us-east-1")


@pytest.fixture
def make_function(lam: Any) -> Any:
    role = boto3.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]

    def make(name: str, **extra: Any) -> str:
        arn: str = lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code=code(), **extra
        )["FunctionArn"]
        return arn

    return make


def test_enrichments(lam: Any, make_function: Any, collect: Any) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a, b, a2 = (
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in (("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b"), ("10.0.3.0/24", "us-east-1a"))
    )
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    make_function("spread", VpcConfig={"SubnetIds": [a, b], "SecurityGroupIds": [group]})
    make_function("one-zone", VpcConfig={"SubnetIds": [a, a2], "SecurityGroupIds": [group]})
    make_function("plain")
    lam.put_function_concurrency(FunctionName="spread", ReservedConcurrentExecutions=7)
    lam.put_function_event_invoke_config(
        FunctionName="plain",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:failures"}},
    )

    docs = collect("AWS::Lambda::Function")

    assert docs["spread"].properties["ReservedConcurrentExecutions"] == 7
    assert docs["plain"].properties["ReservedConcurrentExecutions"] is None
    assert sorted(docs["spread"].properties["VpcConfig"]["SubnetAvailabilityZones"]) == ["us-east-1a", "us-east-1b"]
    assert docs["one-zone"].properties["VpcConfig"]["SubnetAvailabilityZones"] == ["us-east-1a", "us-east-1a"]
    on_failure = docs["plain"].properties["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Destination"].endswith(":failures")
    assert docs["spread"].properties["EventInvokeConfig"] is None, "ResourceNotFound means no config, not an error"


def test_many_functions_all_collected(make_function: Any, collect: Any) -> None:
    for i in range(5):
        make_function(f"fn-{i}")
    assert sorted(collect("AWS::Lambda::Function")) == [f"fn-{i}" for i in range(5)]


def test_dead_letter_config_reaches_the_document(lam: Any, make_function: Any, collect: Any, factory: Any) -> None:
    """moto 5.2 drops DeadLetterConfig on CreateFunction, so it is put back into the ListFunctions
    response with an after-call hook, the way AWS returns it."""
    dlq = "arn:aws:sqs:us-east-1:123456789012:fn-dlq"
    make_function("with-dlq", DeadLetterConfig={"TargetArn": dlq})

    def add_dlq(parsed: dict[str, Any], **_: Any) -> None:
        for function in parsed.get("Functions", []):
            if function["FunctionName"] == "with-dlq":
                function["DeadLetterConfig"] = {"TargetArn": dlq}

    factory.client("lambda", "us-east-1").meta.events.register("after-call.lambda.ListFunctions", add_dlq)
    docs = collect("AWS::Lambda::Function")
    assert docs["with-dlq"].properties["DeadLetterConfig"] == {"TargetArn": dlq}


def test_triggers_alarms_and_throttles(lam: Any, make_function: Any, collect: Any) -> None:
    import datetime as dt

    from .lambda_support import alarm

    make_function("on-topic")
    make_function("behind-api", Timeout=60)
    make_function("url")
    make_function("quiet")
    lam.add_permission(
        FunctionName="on-topic",
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn="arn:aws:sns:us-east-1:123456789012:orders",
    )
    lam.add_permission(
        FunctionName="behind-api",
        StatementId="api",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
    )
    lam.add_permission(
        FunctionName="url",
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    alarm("on-topic-errors", "AWS/Lambda", "Errors", "FunctionName", "on-topic")
    alarm("on-topic-throttles", "AWS/Lambda", "Throttles", "FunctionName", "on-topic", actions=False)
    now = dt.datetime.now(dt.UTC)
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Throttles",
                "Dimensions": [{"Name": "FunctionName", "Value": "behind-api"}],
                "Value": value,
                "Timestamp": now - dt.timedelta(days=days),
            }
            for value, days in ((4.0, 1), (3.0, 3), (100.0, 9))  # the last is older than a week
        ],
    )

    docs = collect("AWS::Lambda::Function")

    topic = docs["on-topic"].properties
    assert topic["Triggers"] == {"Principals": ["sns.amazonaws.com"], "Async": True, "Api": False}
    assert docs["behind-api"].properties["Triggers"]["Api"] is True
    assert docs["url"].properties["Triggers"] == {"Principals": ["function-url"], "Async": False, "Api": True}
    assert docs["quiet"].properties["Triggers"] == {"Principals": [], "Async": False, "Api": False}
    assert topic["Alarms"]["Errors"] == [{"AlarmName": "on-topic-errors", "Actionable": True, "MetricName": "Errors"}]
    assert topic["Alarms"]["Throttles"][0]["Actionable"] is False, "no ALARM action"
    assert docs["quiet"].properties["Alarms"] == {"Errors": [], "Throttles": []}
    assert docs["behind-api"].properties["ThrottlesLast7Days"] == 7.0
    assert docs["quiet"].properties["ThrottlesLast7Days"] == 0.0
    assert docs["behind-api"].properties["Timeout"] == 60


def test_no_alarm_or_metric_calls_unless_a_check_reads_them(make_function: Any, factory: Any) -> None:
    from relaudit.inventory import load_collector
    from relaudit.inventory.base import CollectorContext

    make_function("solo")
    seen: list[str] = []
    for service in ("lambda", "cloudwatch"):
        factory.client(service, "us-east-1").meta.events.register(
            "before-call", lambda model, **_: seen.append(model.name)
        )
    ctx = CollectorContext("123456789012", "us-east-1", factory.bound("us-east-1"), needs=frozenset({"Timeout"}))
    (doc,) = load_collector("AWS::Lambda::Function").collect(ctx)
    assert seen == ["ListFunctions"]
    assert "Triggers" not in doc.properties
    assert "Alarms" not in doc.properties


def test_refused_joins_leave_fields_out(make_function: Any, factory: Any) -> None:
    from relaudit.inventory import load_collector
    from relaudit.inventory.base import CollectorContext

    from .lambda_support import refuse

    for i in range(3):
        make_function(f"fn-{i}")
    refuse(factory.client("lambda", "us-east-1"), "GetPolicy")
    refuse(factory.client("cloudwatch", "us-east-1"), "GetMetricData", "Throttling")
    seen: list[str] = []
    # provide-client-params comes before before-call, where the refusal ends the handler chain.
    factory.client("lambda", "us-east-1").meta.events.register(
        "provide-client-params", lambda model, **_: seen.append(model.name)
    )
    ctx = CollectorContext("123456789012", "us-east-1", factory.bound("us-east-1"))

    docs = list(load_collector("AWS::Lambda::Function").collect(ctx))

    assert len(docs) == 3
    assert sorted({field for field, _ in ctx.incomplete}) == ["ThrottlesLast7Days", "Triggers"]
    assert all("Triggers" not in d.properties and "ThrottlesLast7Days" not in d.properties for d in docs)
    assert all(d.properties["Alarms"] == {"Errors": [], "Throttles": []} for d in docs)
    assert seen.count("GetPolicy") == 1, "one refusal is enough"
