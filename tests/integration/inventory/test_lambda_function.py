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
    assert topic["Triggers"] == {"Principals": ["sns.amazonaws.com"], "Async": True, "Api": False, "Qualifier": None}
    assert docs["behind-api"].properties["Triggers"]["Api"] is True
    assert docs["url"].properties["Triggers"]["Principals"] == ["function-url"]
    assert docs["url"].properties["Triggers"]["Api"] is True
    assert docs["quiet"].properties["Triggers"] == {"Principals": [], "Async": False, "Api": False, "Qualifier": None}
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


def _per_qualifier_like_aws(factory: Any, function: str) -> None:
    """moto 5.2 keeps one policy and one event invoke config per function whatever the Qualifier:
    GetPolicy without a qualifier returns the alias's statements, and ListFunctionEventInvokeConfigs
    names the unqualified function for a config put on an alias. AWS keeps them per qualifier, so
    these hooks answer as AWS does: each policy holds only its qualifier's statements, and the
    alias's config carries the alias ARN."""
    client = factory.client("lambda", "us-east-1")
    asked: dict[str, str] = {}

    def remember(params: dict[str, Any], **_: Any) -> None:
        asked["qualifier"] = (params.get("query_string") or {}).get("Qualifier", "")

    def policy(parsed: dict[str, Any], **_: Any) -> None:
        document = json.loads(parsed.get("Policy") or "{}")
        suffix = f":{asked['qualifier']}" if asked["qualifier"] else ""
        document["Statement"] = [
            s for s in document.get("Statement", []) if s["Resource"].endswith(f"function:{function}{suffix}")
        ]
        parsed["Policy"] = json.dumps(document)

    def configs(parsed: dict[str, Any], **_: Any) -> None:
        for config in parsed.get("FunctionEventInvokeConfigs", []):
            if config["FunctionArn"].endswith(f":function:{function}"):
                config["FunctionArn"] += ":live"

    client.meta.events.register("before-call.lambda.GetPolicy", remember)
    client.meta.events.register("after-call.lambda.GetPolicy", policy)
    client.meta.events.register("after-call.lambda.ListFunctionEventInvokeConfigs", configs)


def test_sam_auto_publish_alias_is_judged_on_the_alias(
    lam: Any, make_function: Any, collect: Any, factory: Any
) -> None:
    """SAM's AutoPublishAlias puts the invoke permissions and the event invoke config on the alias."""
    from .catalog_support import verdicts

    make_function("sam", Timeout=300)
    version = lam.publish_version(FunctionName="sam")["Version"]
    lam.create_alias(FunctionName="sam", Name="live", FunctionVersion=version)
    for sid, principal in (("sns", "sns.amazonaws.com"), ("api", "apigateway.amazonaws.com")):
        lam.add_permission(
            FunctionName="sam", Qualifier="live", StatementId=sid, Action="lambda:InvokeFunction", Principal=principal
        )
    lam.put_function_event_invoke_config(
        FunctionName="sam",
        Qualifier="live",
        MaximumRetryAttempts=0,
        MaximumEventAgeInSeconds=600,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:failures"}},
    )
    _per_qualifier_like_aws(factory, "sam")

    docs = collect("AWS::Lambda::Function")

    sam = docs["sam"].properties
    assert sam["Triggers"] == {
        "Principals": ["apigateway.amazonaws.com", "sns.amazonaws.com"],
        "Async": True,
        "Api": True,
        "Qualifier": "live",
    }
    assert sam["EventInvokeConfig"]["FunctionArn"].endswith(":sam:live")
    expected = {
        "lambda-function-async-failure-captured": "PASSED",
        "lambda-function-async-retry-attempts-set": "PASSED",
        "lambda-function-async-event-age-bounded": "PASSED",
        "lambda-function-request-path-timeout-bounded": "FAILED",  # 300 s behind an API
    }
    assert {check: verdicts(check, docs)["sam"] for check in expected} == expected


def test_invokers_decide_async_and_concurrency_checks(lam: Any, make_function: Any, collect: Any) -> None:
    from .catalog_support import verdicts
    from .lambda_support import queue

    nightly = make_function("nightly")
    make_function("consumer")
    make_function("capped")
    make_function("backend")
    make_function("orphan")
    boto3.client("scheduler", region_name="us-east-1").create_schedule(
        Name="nightly",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": nightly, "RoleArn": "arn:aws:iam::123456789012:role/scheduler"},
    )
    for name, scaling in (("consumer", None), ("capped", {"MaximumConcurrency": 20})):
        _, source = queue(f"{name}-in")
        lam.create_event_source_mapping(
            EventSourceArn=source, FunctionName=name, **({"ScalingConfig": scaling} if scaling else {})
        )
    lam.add_permission(
        FunctionName="backend", StatementId="api", Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com"
    )

    docs = collect("AWS::Lambda::Function")

    assert docs["nightly"].properties["Triggers"]["Principals"] == ["scheduler.amazonaws.com"]
    assert docs["capped"].properties["EventSourceMappings"][0]["ScalingConfig"] == {"MaximumConcurrency": 20}
    assert verdicts("lambda-function-async-failure-captured", docs) == {
        "nightly": "FAILED",  # Scheduler invokes asynchronously through its role
        "consumer": "NOT_APPLICABLE",
        "capped": "NOT_APPLICABLE",
        "backend": "NOT_APPLICABLE",
        "orphan": "NOT_APPLICABLE",
    }
    assert verdicts("lambda-function-reserved-concurrency-set", docs) == {
        "nightly": "FAILED",
        "consumer": "FAILED",
        "capped": "PASSED",  # the mapping's MaximumConcurrency is its ceiling
        "backend": "NOT_APPLICABLE",
        "orphan": "NOT_APPLICABLE",
    }
