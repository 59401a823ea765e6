"""Collector for AWS::RDS::DBInstance, with AWS Backup recovery points."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import BACKUP_ACTIONS, BackupIndex

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::RDS::DBInstance"
IAM_ACTIONS = frozenset({"rds:DescribeDBInstances"}) | BACKUP_ACTIONS
DOCUMENT = shapes.fields(
    shapes.Api("rds", "DescribeDBInstances", "DBInstances[]", ("DBInstanceArn", "DBInstanceIdentifier")),
    AwsBackup=shapes.AWS_BACKUP,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("backup", "ListProtectedResources", "Results[]", ("ResourceArn", "LastBackupTime")),)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every DB instance; Aurora members carry DBClusterIdentifier. ``AwsBackup`` (latest
    AWS Backup recovery point, or null) is added when a selected check reads it.
    """
    rds = ctx.client("rds")
    instances = list(paginate(rds, "describe_db_instances", "DBInstances", ctx.page_size))
    backups = BackupIndex.load(ctx) if instances and ctx.wants("AwsBackup") else None
    for instance in instances:
        properties = dict(instance)
        if backups is not None:
            properties["AwsBackup"] = backups.summary(instance["DBInstanceArn"])
        yield document(ctx, RESOURCE_TYPE, instance["DBInstanceArn"], instance["DBInstanceIdentifier"], properties)
