"""Collector for AWS::DynamoDB::Table, with PITR, auto scaling targets and AWS Backup."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.inventory import shapes
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
DOCUMENT = shapes.fields(
    shapes.Api(
        "dynamodb",
        "DescribeTable",
        "Table",
        ("TableArn", "TableName", "GlobalSecondaryIndexes[].IndexName"),
    ),
    PointInTimeRecoveryStatus=shapes.Shape("dynamodb", "PointInTimeRecoveryStatus"),
    ScalableDimensions=shapes.ListOf(shapes.ANY),
    IndexesWithoutAutoScaling=shapes.ListOf(shapes.ANY),
    AwsBackup=shapes.AWS_BACKUP,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api(
        "application-autoscaling", "DescribeScalableTargets", "ScalableTargets[]", ("ResourceId", "ScalableDimension")
    ),
    shapes.Api("dynamodb", "ListTables", "TableNames[]"),
    shapes.Api(
        "dynamodb",
        "DescribeContinuousBackups",
        "ContinuousBackupsDescription",
        ("PointInTimeRecoveryDescription.PointInTimeRecoveryStatus",),
    ),
    shapes.Api("backup", "ListProtectedResources", "Results[]", ("ResourceArn", "LastBackupTime")),
)


def scalable_dimensions(ctx: CollectorContext) -> dict[str, list[str]]:
    """Map ``table/<name>`` and ``table/<name>/index/<index>`` to their registered scalable dimensions."""
    dimensions: dict[str, list[str]] = defaultdict(list)
    autoscaling = ctx.client("application-autoscaling")
    for target in paginate(
        autoscaling, "describe_scalable_targets", "ScalableTargets", ctx.page_size, ServiceNamespace="dynamodb"
    ):
        dimensions[target["ResourceId"]].append(target["ScalableDimension"])
    return dimensions


def indexes_without_scaling(table: dict[str, Any], scaling: dict[str, list[str]]) -> list[str]:
    """The table's global secondary indexes whose read or write capacity is fixed.

    A GSI of a provisioned table has its own provisioned throughput and its own scalable targets;
    one that throttles writes throttles the table's writes too (DynamoDB's GSI write back-pressure).
    An on-demand table's indexes are on demand as well.
    """
    fixed = []
    for index in table.get("GlobalSecondaryIndexes") or []:
        registered = scaling.get(f"table/{table['TableName']}/index/{index.get('IndexName')}", [])
        wanted = ("dynamodb:index:ReadCapacityUnits", "dynamodb:index:WriteCapacityUnits")
        if not all(dimension in registered for dimension in wanted):
            fixed.append(str(index.get("IndexName")))
    return sorted(fixed)


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
    ``PointInTimeRecoveryStatus``, ``ScalableDimensions`` (the table's own), ``IndexesWithoutAutoScaling``
    (global secondary indexes with a fixed read or write capacity) and ``AwsBackup``. The per-table calls go
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
            properties["IndexesWithoutAutoScaling"] = indexes_without_scaling(properties, scaling)
        if backups is not None:
            properties["AwsBackup"] = backups.summary(properties["TableArn"])
        yield document(ctx, RESOURCE_TYPE, properties["TableArn"], name, properties)
