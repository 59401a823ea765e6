"""AWS::ServiceQuotas::ServiceQuota collector: capacity quotas joined with last week's peak usage.

moto 5.2 raises NotImplementedError (a Python exception, not an AWS error) for ListServiceQuotas
and ListAWSDefaultServiceQuotas, so a before-call hook answers them like the real API, in pages
that honour MaxResults and NextToken; the usage metrics are real moto CloudWatch data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from relaudit.inventory.servicequotas_service_quota import SERVICE_CODES

from .lambda_support import ACCOUNT

VCPU = {
    "MetricNamespace": "AWS/Usage",
    "MetricName": "ResourceCount",
    "MetricDimensions": {"Class": "Standard/OnDemand", "Resource": "vCPU", "Service": "EC2", "Type": "Resource"},
    "MetricStatisticRecommendation": "Maximum",
}


def quota(
    service: str, code: str, name: str, value: float, metric: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    item = {
        "ServiceCode": service,
        "QuotaCode": code,
        "QuotaName": name,
        "QuotaArn": f"arn:aws:servicequotas:us-east-1:{ACCOUNT}:{service}/{code}",
        "Value": value,
        "Adjustable": True,
        "GlobalQuota": False,
        **extra,
    }
    if metric:
        item["UsageMetric"] = metric
    return item


DEFAULTS = {
    "ec2": [
        quota("ec2", "L-1216C47A", "Running On-Demand Standard instances", 5.0, VCPU),
        quota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5.0),  # no usage metric
        quota(
            "ec2",
            "L-RATE",
            "DescribeInstances rate",
            100.0,
            {**VCPU, "MetricName": "CallCount", "MetricStatisticRecommendation": "Sum"},
            Period={"PeriodValue": 1, "PeriodUnit": "SECOND"},
        ),
    ],
    "elasticloadbalancing": [
        quota(
            "elasticloadbalancing",
            "L-53DA6B97",
            "Application Load Balancers per Region",
            50.0,
            {**VCPU, "MetricDimensions": {"Resource": "ALB", "Service": "ELB", "Type": "Resource", "Class": "None"}},
        ),
    ],
}
APPLIED = {"ec2": [quota("ec2", "L-1216C47A", "Running On-Demand Standard instances", 640.0, VCPU)]}


def serve_quotas(factory: Any, seen: list[tuple[str, str, int | None]]) -> None:
    """Answer both list operations per ServiceCode, two items a page; 'kinesis' is not offered."""

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)  # before-call sees the serialized request; keep the API's

    def handler(model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = context["api_params"]
        service = params["ServiceCode"]
        seen.append((model.name, service, params.get("MaxResults")))
        if service == "kinesis":
            error = {"Error": {"Code": "NoSuchResourceException", "Message": "not in this Region"}}
            return AWSResponse("https://stubbed", 400, {}, None), {**error, "ResponseMetadata": {"HTTPStatusCode": 400}}
        items = (DEFAULTS if model.name == "ListAWSDefaultServiceQuotas" else APPLIED).get(service, [])
        start = int(params.get("NextToken") or 0)
        page: dict[str, Any] = {"Quotas": items[start : start + 2]}
        if start + 2 < len(items):
            page["NextToken"] = str(start + 2)
        return AWSResponse("https://stubbed", 200, {}, None), {**page, "ResponseMetadata": {"HTTPStatusCode": 200}}

    client = factory.client("service-quotas", "us-east-1")
    for operation in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
        client.meta.events.register(f"before-parameter-build.service-quotas.{operation}", remember)
        client.meta.events.register_first(f"before-call.service-quotas.{operation}", handler)


def test_capacity_quotas_with_peak_usage(aws: None, factory: Any, collect: Any) -> None:
    seen: list[tuple[str, str, int | None]] = []
    serve_quotas(factory, seen)
    now = dt.datetime.now(dt.UTC)
    dimensions = [{"Name": k, "Value": v} for k, v in VCPU["MetricDimensions"].items()]
    boto3.client("cloudwatch", region_name="us-east-1").put_metric_data(
        Namespace="AWS/Usage",
        MetricData=[
            {
                "MetricName": "ResourceCount",
                "Dimensions": dimensions,
                "Value": v,
                "Timestamp": now - dt.timedelta(hours=h),
            }
            for v, h in ((96.0, 30), (512.0, 4), (900.0, 24 * 9))  # the last is older than a week
        ],
    )

    docs = collect("AWS::ServiceQuotas::ServiceQuota")

    assert sorted(docs) == [
        "ec2/Running On-Demand Standard instances",
        "elasticloadbalancing/Application Load Balancers per Region",
    ], "no usage metric, rate quotas and unoffered services are left out"
    vcpu = docs["ec2/Running On-Demand Standard instances"]
    assert vcpu.arn == f"arn:aws:servicequotas:us-east-1:{ACCOUNT}:ec2/L-1216C47A"
    assert vcpu.properties["Value"] == 640.0, "the applied value overrides the default"
    assert vcpu.properties["PeakUsage"] == 512.0
    assert vcpu.properties["UsagePercent"] == 80.0
    alb = docs["elasticloadbalancing/Application Load Balancers per Region"].properties
    assert (alb["PeakUsage"], alb["UsagePercent"]) == (None, None)
    assert {service for _, service, _ in seen} == set(SERVICE_CODES)
    assert ("ListAWSDefaultServiceQuotas", "ec2", 2) in seen
    assert sum(1 for op, service, _ in seen if (op, service) == ("ListAWSDefaultServiceQuotas", "ec2")) == 2, (
        "two pages"
    )
