"""Collector for AWS::Neptune::DBCluster, with member AZs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import instance_zones, member_zones

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::Neptune::DBCluster"
IAM_ACTIONS = frozenset({"rds:DescribeDBClusters", "rds:DescribeDBInstances"})  # Neptune's API is RDS's
ENGINE_FILTER = [{"Name": "engine", "Values": ["neptune"]}]
DOCUMENT = shapes.fields(
    shapes.Api(
        "neptune",
        "DescribeDBClusters",
        "DBClusters[]",
        ("DBClusterArn", "DBClusterIdentifier", "DBClusterMembers[].DBInstanceIdentifier"),
    ),
    MemberAvailabilityZones=shapes.ZONES,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("neptune", "DescribeDBInstances", "DBInstances[]", ("DBInstanceIdentifier", "AvailabilityZone")),)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every Neptune cluster with ``MemberAvailabilityZones`` when a selected check reads it."""
    neptune = ctx.client("neptune")
    clusters = list(paginate(neptune, "describe_db_clusters", "DBClusters", ctx.page_size, Filters=ENGINE_FILTER))
    wanted = ctx.wants("MemberAvailabilityZones")
    zones = instance_zones(neptune, ctx.page_size, Filters=ENGINE_FILTER) if clusters and wanted else {}
    for cluster in clusters:
        properties = dict(cluster)
        if wanted:
            properties["MemberAvailabilityZones"] = member_zones(cluster, zones)
        yield document(ctx, RESOURCE_TYPE, cluster["DBClusterArn"], cluster["DBClusterIdentifier"], properties)
