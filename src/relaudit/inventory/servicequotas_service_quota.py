"""Collector for AWS::ServiceQuotas::ServiceQuota, a pseudo type: the Service Quotas of a few
capacity-bearing services in one region, each joined with its peak usage over the last week."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.aws import error_code
from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.joins import guarded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ServiceQuotas::ServiceQuota"
IAM_ACTIONS = frozenset(
    {"servicequotas:ListServiceQuotas", "servicequotas:ListAWSDefaultServiceQuotas", "cloudwatch:GetMetricData"}
)
# Regional services whose quotas cap capacity a workload scales or fails over into. Lambda's
# concurrency quota is covered by AWS::Lambda::AccountSettings.
SERVICE_CODES = (
    "ec2",
    "ebs",
    "elasticloadbalancing",
    "vpc",
    "ecs",
    "fargate",
    "rds",
    "dynamodb",
    "elasticache",
    "kinesis",
    "apigateway",
    "states",
)
_PAGE = 100  # the largest MaxResults Service Quotas accepts
_METRIC_QUERIES_MAX = 500
_DAYS = 7
DOCUMENT = shapes.fields(
    shapes.Api(
        "service-quotas",
        "ListServiceQuotas",
        "Quotas[]",
        ("QuotaArn", "QuotaCode", "QuotaName", "ServiceCode", "Value", "UsageMetric"),
    ),
    PeakUsage=shapes.ANY,
    UsagePercent=shapes.ANY,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("service-quotas", "ListAWSDefaultServiceQuotas", "Quotas[]", ("QuotaCode", "Value")),
    shapes.Api(
        "service-quotas",
        "ListServiceQuotas",
        "Quotas[]",
        (
            "UsageMetric.MetricName",
            "UsageMetric.MetricNamespace",
            "UsageMetric.MetricDimensions",
            "UsageMetric.MetricStatisticRecommendation",
            "Period",
        ),
    ),
    shapes.Api("cloudwatch", "GetMetricData", "MetricDataResults[]", ("Id", "Values")),
)


def _quotas(ctx: CollectorContext, service: str) -> dict[str, dict[str, Any]]:
    """QuotaCode -> quota: AWS defaults, overridden by applied values where the account has them.

    Quotas with a Period are rates (requests per second), not capacity, and are left out. A
    service Service Quotas does not offer in the region (NoSuchResourceException) has no quotas.
    """
    client = ctx.client("service-quotas")
    page = ctx.page_size or _PAGE
    quotas: dict[str, dict[str, Any]] = {}
    try:
        for operation in ("list_aws_default_service_quotas", "list_service_quotas"):
            for quota in paginate(client, operation, "Quotas", page, ServiceCode=service):
                if not quota.get("Period") and quota.get("QuotaCode"):
                    quotas[quota["QuotaCode"]] = quota
    except ClientError as exc:
        if error_code(exc) == "NoSuchResourceException":
            return {}
        raise
    return quotas


def _usage_query(index: int, metric: dict[str, Any]) -> dict[str, Any]:
    dimensions = [{"Name": k, "Value": v} for k, v in (metric.get("MetricDimensions") or {}).items()]
    return {
        "Id": f"q{index}",
        "MetricStat": {
            "Metric": {
                "Namespace": metric["MetricNamespace"],
                "MetricName": metric["MetricName"],
                "Dimensions": dimensions,
            },
            "Period": 3600,
            "Stat": "Maximum",
        },
    }


def _peaks(ctx: CollectorContext, metrics: list[dict[str, Any]]) -> list[float | None]:
    """Each usage metric's highest hourly Maximum over the week; None without datapoints."""
    cloudwatch = ctx.client("cloudwatch")
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    peaks: list[float | None] = [None] * len(metrics)
    for offset in range(0, len(metrics), _METRIC_QUERIES_MAX):
        queries = [_usage_query(offset + i, m) for i, m in enumerate(metrics[offset : offset + _METRIC_QUERIES_MAX])]
        for result in paginate(
            cloudwatch,
            "get_metric_data",
            "MetricDataResults",
            None,
            MetricDataQueries=queries,
            StartTime=end - dt.timedelta(days=_DAYS),
            EndTime=end,
        ):
            values = result.get("Values") or []
            if values:
                index = int(result["Id"][1:])
                peaks[index] = max([*values, peaks[index] or 0.0])
    return peaks


def _measurable(quota: dict[str, Any]) -> bool:
    """A usage metric whose Maximum is the usage (resource counts), against a positive quota."""
    metric = quota.get("UsageMetric") or {}
    statistic = metric.get("MetricStatisticRecommendation") or "Maximum"
    return (
        bool(metric.get("MetricNamespace") and metric.get("MetricName"))
        and statistic == "Maximum"
        and (quota.get("Value") or 0) > 0
    )


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every capacity quota of ``SERVICE_CODES`` that publishes a usage metric, with
    ``PeakUsage`` (hourly Maximum of that metric over 7 days, null without datapoints) and
    ``UsagePercent`` of the quota's ``Value`` (GetMetricData, 500 quotas per call).
    """
    quotas = [q for service in SERVICE_CODES for q in _quotas(ctx, service).values() if _measurable(q)]
    peaks: list[float | None] | None = [None] * len(quotas)
    if quotas and (ctx.wants("UsagePercent") or ctx.wants("PeakUsage")):
        peaks = guarded(ctx, "PeakUsage", _peaks, ctx, [q["UsageMetric"] for q in quotas])
    for index, quota in enumerate(quotas):
        properties = dict(quota)
        if peaks is not None:
            peak = peaks[index]
            properties["PeakUsage"] = peak
            properties["UsagePercent"] = None if peak is None else round(100.0 * peak / float(quota["Value"]), 1)
        arn = quota.get("QuotaArn") or (
            f"arn:{ctx.partition}:servicequotas:{ctx.region}:{ctx.account_id}:{quota['ServiceCode']}/{quota['QuotaCode']}"
        )
        yield document(
            ctx,
            RESOURCE_TYPE,
            arn,
            f"{quota['ServiceCode']}/{quota.get('QuotaName') or quota['QuotaCode']}",
            properties,
        )
