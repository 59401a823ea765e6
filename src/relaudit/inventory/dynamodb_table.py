"""Collector for AWS::DynamoDB::Table, with PITR, auto scaling targets and AWS Backup."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import BACKUP_ACTIONS, BackupIndex, is_gone

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::DynamoDB::Table"
IAM_ACTIONS = (
    frozenset(
        {
            "dynamodb:ListTables",
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
            "application-autoscaling:DescribeScalableTargets",
        }
    )
    | BACKUP_ACTIONS
)


def scalable_dimensions(ctx: CollectorContext) -> dict[str, list[str]]:
    """Map ``table/<name>`` to the table's registered scalable dimensions (indexes excluded)."""
    dimensions: dict[str, list[str]] = defaultdict(list)
    autoscaling = ctx.client("application-autoscaling")
    for target in paginate(
        autoscaling, "describe_scalable_targets", "ScalableTargets", ctx.page_size, ServiceNamespace="dynamodb"
    ):
        if target["ResourceId"].count("/") == 1:  # table/<name>; indexes are table/<name>/index/<index>
            dimensions[target["ResourceId"]].append(target["ScalableDimension"])
    return dimensions


def _describe(ctx: CollectorContext, name: str) -> dict[str, Any] | None:
    """DescribeTable, plus PITR status when a check reads it; None if the table is gone."""
    dynamodb = ctx.client("dynamodb")
    try:
        properties: dict[str, Any] = dict(dynamodb.describe_table(TableName=name)["Table"])
        if ctx.wants("PointInTimeRecoveryStatus"):
            description = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
            pitr = description.get("PointInTimeRecoveryDescription") or {}
            properties["PointInTimeRecoveryStatus"] = pitr.get("PointInTimeRecoveryStatus")
    except ClientError as exc:
        if is_gone(exc):
            return None  # deleted since ListTables
        raise
    return properties


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every table (DescribeTable), enriched when a selected check reads them with
    ``PointInTimeRecoveryStatus``, ``ScalableDimensions`` and ``AwsBackup``. The per-table calls go
    through ``ctx.map``.
    """
    dynamodb = ctx.client("dynamodb")
    names = list(paginate(dynamodb, "list_tables", "TableNames", ctx.page_size))
    scaling = scalable_dimensions(ctx) if names and ctx.wants("ScalableDimensions") else {}
    backups = BackupIndex.load(ctx) if names and ctx.wants("AwsBackup") else None
    for name, properties in zip(names, ctx.map(partial(_describe, ctx), names), strict=True):
        if properties is None:
            continue
        if ctx.wants("ScalableDimensions"):
            properties["ScalableDimensions"] = sorted(scaling.get(f"table/{name}", []))
        if backups is not None:
            properties["AwsBackup"] = backups.summary(properties["TableArn"])
        yield document(ctx, RESOURCE_TYPE, properties["TableArn"], name, properties)
