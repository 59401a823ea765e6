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
