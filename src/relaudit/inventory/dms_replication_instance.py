"""Collector for AWS::DMS::ReplicationInstance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::DMS::ReplicationInstance"
IAM_ACTIONS = frozenset({"dms:DescribeReplicationInstances"})
DOCUMENT = shapes.fields(
    shapes.Api(
        "dms",
        "DescribeReplicationInstances",
        "ReplicationInstances[]",
        ("ReplicationInstanceArn", "ReplicationInstanceIdentifier"),
    )
)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every replication instance."""
    dms = ctx.client("dms")
    for instance in paginate(dms, "describe_replication_instances", "ReplicationInstances", ctx.page_size):
        yield document(
            ctx, RESOURCE_TYPE, instance["ReplicationInstanceArn"], instance["ReplicationInstanceIdentifier"], instance
        )
