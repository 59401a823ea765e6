"""Collector for AWS::RDS::DBCluster (Aurora and Multi-AZ DB clusters), with member AZs and backups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import BACKUP_ACTIONS, BackupIndex, instance_zones, member_zones

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::RDS::DBCluster"
IAM_ACTIONS = frozenset({"rds:DescribeDBClusters", "rds:DescribeDBInstances"}) | BACKUP_ACTIONS
# DescribeDBClusters also returns DocumentDB and Neptune clusters: other CloudFormation types.
OTHER_TYPES_ENGINES = frozenset({"docdb", "neptune"})
DOCUMENT = shapes.fields(
    shapes.Api(
        "rds",
        "DescribeDBClusters",
        "DBClusters[]",
        ("DBClusterArn", "DBClusterIdentifier", "Engine", "DBClusterMembers[].DBInstanceIdentifier"),
    ),
    MemberAvailabilityZones=shapes.ZONES,
    AwsBackup=shapes.AWS_BACKUP,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("rds", "DescribeDBInstances", "DBInstances[]", ("DBInstanceIdentifier", "AvailabilityZone")),
    shapes.Api("backup", "ListProtectedResources", "Results[]", ("ResourceArn", "LastBackupTime")),
)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every RDS DB cluster, enriched when a selected check reads it with
    ``MemberAvailabilityZones`` (one per member, writer included) and ``AwsBackup`` (latest
    AWS Backup recovery point, or null).
    """
    rds = ctx.client("rds")
    clusters = [
        cluster
        for cluster in paginate(rds, "describe_db_clusters", "DBClusters", ctx.page_size)
        if cluster.get("Engine") not in OTHER_TYPES_ENGINES
    ]
    zones = instance_zones(rds, ctx.page_size) if clusters and ctx.wants("MemberAvailabilityZones") else {}
    backups = BackupIndex.load(ctx) if clusters and ctx.wants("AwsBackup") else None
    for cluster in clusters:
        arn = cluster["DBClusterArn"]
        properties = dict(cluster)
        if ctx.wants("MemberAvailabilityZones"):
            properties["MemberAvailabilityZones"] = member_zones(cluster, zones)
        if backups is not None:
            properties["AwsBackup"] = backups.summary(arn)
        yield document(ctx, RESOURCE_TYPE, arn, cluster["DBClusterIdentifier"], properties)
