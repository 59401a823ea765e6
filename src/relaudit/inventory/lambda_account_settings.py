"""Collector for AWS::Lambda::AccountSettings, a pseudo type: one document per account and region
holding Lambda's concurrency quota, what is left unreserved, and last week's peak concurrency."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document
from relaudit.inventory.joins import guarded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::Lambda::AccountSettings"
IAM_ACTIONS = frozenset({"lambda:GetAccountSettings", "cloudwatch:GetMetricStatistics"})
_PEAK_DAYS = 7
_HOUR = 3600
DOCUMENT = shapes.fields(
    shapes.Api(
        "lambda",
        "GetAccountSettings",
        "",
        ("AccountLimit.ConcurrentExecutions", "AccountLimit.UnreservedConcurrentExecutions", "AccountUsage"),
    ),
    ConcurrencyLimit=shapes.ANY,
    UnreservedConcurrency=shapes.ANY,
    ReservedConcurrencyTotal=shapes.ANY,
    UnreservedConcurrencyPercent=shapes.ANY,
    PeakConcurrentExecutions=shapes.ANY,
    PeakConcurrencyPercent=shapes.ANY,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("cloudwatch", "GetMetricStatistics", "Datapoints[]", ("Maximum",)),)


def _percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _peak_concurrency(ctx: CollectorContext) -> float:
    """The account's highest ConcurrentExecutions (hourly Maximum) over the last week; 0 without data."""
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    points = (
        ctx.client("cloudwatch")
        .get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="ConcurrentExecutions",
            StartTime=end - dt.timedelta(days=_PEAK_DAYS),
            EndTime=end,
            Period=_HOUR,  # 168 datapoints, under the 1,440 a single call may return
            Statistics=["Maximum"],
        )
        .get("Datapoints")
        or []
    )
    return max((float(point.get("Maximum") or 0) for point in points), default=0.0)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield one document: GetAccountSettings' ``AccountLimit`` and ``AccountUsage``, plus

    - ``ConcurrencyLimit``, ``UnreservedConcurrency`` and ``ReservedConcurrencyTotal`` (the limit
      minus what is unreserved, i.e. the sum of every function's reserved concurrency);
    - ``UnreservedConcurrencyPercent`` of the limit;
    - ``PeakConcurrentExecutions`` over the last week and ``PeakConcurrencyPercent`` of the limit,
      when a selected check reads them (CloudWatch GetMetricStatistics).

    Checks need arithmetic JMESPath lacks, so the ratios are computed here.
    """
    settings = ctx.client("lambda").get_account_settings()
    limit_block: dict[str, Any] = settings.get("AccountLimit") or {}
    limit = int(limit_block.get("ConcurrentExecutions") or 0)
    unreserved = int(limit_block.get("UnreservedConcurrentExecutions") or 0)
    properties: dict[str, Any] = {
        "AccountLimit": limit_block,
        "AccountUsage": settings.get("AccountUsage") or {},
        "ConcurrencyLimit": limit,
        "UnreservedConcurrency": unreserved,
        "ReservedConcurrencyTotal": limit - unreserved,
        "UnreservedConcurrencyPercent": _percent(unreserved, limit),
    }
    if ctx.wants("PeakConcurrentExecutions") or ctx.wants("PeakConcurrencyPercent"):
        peak = guarded(ctx, "PeakConcurrentExecutions", _peak_concurrency, ctx)
        if peak is not None:
            properties["PeakConcurrentExecutions"] = peak
            properties["PeakConcurrencyPercent"] = _percent(peak, limit)
    arn = f"arn:{ctx.partition}:lambda:{ctx.region}:{ctx.account_id}:account-settings"
    yield document(ctx, RESOURCE_TYPE, arn, f"lambda-account-settings/{ctx.region}", properties)
