"""Helpers for collector tests that need Lambda functions, alarms and stubbed responses on moto."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

ACCOUNT = "123456789012"
ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": []})


def code() -> dict[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return e\n")
    return {"ZipFile": buffer.getvalue()}


def function_maker(region: str = "us-east-1") -> Any:
    """make(name, **create_function_kwargs) -> function ARN, with one shared role."""
    lam = boto3.client("lambda", region_name=region)
    iam = boto3.client("iam", region_name=region)
    try:
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="fn-role")["Role"]["Arn"]

    def make(name: str, **extra: Any) -> str:
        arn: str = lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code=code(), **extra
        )["FunctionArn"]
        return arn

    return make


def alarm(name: str, namespace: str, metric: str, dimension: str, value: str, actions: bool = True) -> None:
    """A metric alarm on one dimension; with ``actions``, an SNS ALARM action."""
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_alarm(
        AlarmName=name,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": dimension, "Value": value}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[f"arn:aws:sns:us-east-1:{ACCOUNT}:oncall"] if actions else [],
    )


def queue(name: str, region: str = "us-east-1", **attributes: str) -> tuple[str, str]:
    """Create a queue; return (url, ARN)."""
    sqs = boto3.client("sqs", region_name=region)
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def answer(client: Any, operation: str, parsed: dict[str, Any]) -> None:
    """Short-circuit ``operation`` on ``client`` with ``parsed`` (for APIs moto lacks), no wire call."""

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://stubbed", 200, {}, None), {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}

    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register_first(event, handler)


def refuse(client: Any, operation: str, code: str = "AccessDeniedException") -> None:
    """Make ``operation`` on ``client`` fail with ``code`` (HTTP 403) before it reaches moto."""

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("https://refused", 403, {}, None), error

    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register_first(event, handler)
