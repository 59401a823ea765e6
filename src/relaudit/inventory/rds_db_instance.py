"""Collector for AWS::RDS::DBInstance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::RDS::DBInstance"
IAM_ACTIONS = frozenset({"rds:DescribeDBInstances"})


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every DB instance; Aurora members carry DBClusterIdentifier."""
    rds = ctx.client("rds")
    for instance in paginate(rds, "describe_db_instances", "DBInstances", ctx.page_size):
        yield document(ctx, RESOURCE_TYPE, instance["DBInstanceArn"], instance["DBInstanceIdentifier"], instance)
