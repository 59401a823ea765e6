"""Collector for AWS::ElastiCache::ReplicationGroup (Redis OSS and Valkey)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ElastiCache::ReplicationGroup"
IAM_ACTIONS = frozenset({"elasticache:DescribeReplicationGroups"})
DOCUMENT = shapes.fields(
    shapes.Api(
        "elasticache",
        "DescribeReplicationGroups",
        "ReplicationGroups[]",
        ("ARN", "ReplicationGroupId", "NodeGroups[].NodeGroupMembers[].PreferredAvailabilityZone"),
    ),
    MemberAvailabilityZones=shapes.ZONES,
)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every replication group, with ``MemberAvailabilityZones`` flattened from its node groups.

    The zones come from the group itself: moto (and AWS, for some engines) does not return
    replication-group members from DescribeCacheClusters, so no join is needed or made.
    """
    elasticache = ctx.client("elasticache")
    for group in paginate(elasticache, "describe_replication_groups", "ReplicationGroups", ctx.page_size):
        zones = [
            member.get("PreferredAvailabilityZone")
            for node_group in group.get("NodeGroups") or []
            for member in node_group.get("NodeGroupMembers") or []
            if member.get("PreferredAvailabilityZone")
        ]
        properties = {**group, "MemberAvailabilityZones": zones}
        yield document(ctx, RESOURCE_TYPE, group["ARN"], group["ReplicationGroupId"], properties)
