"""Collector for AWS::Redshift::Cluster (provisioned clusters)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::Redshift::Cluster"
IAM_ACTIONS = frozenset({"redshift:DescribeClusters"})
DOCUMENT = shapes.fields(shapes.Api("redshift", "DescribeClusters", "Clusters[]", ("ClusterIdentifier",)))


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every cluster; the ARN is built, since DescribeClusters returns only the namespace ARN."""
    redshift = ctx.client("redshift")
    for cluster in paginate(redshift, "describe_clusters", "Clusters", ctx.page_size):
        name = cluster["ClusterIdentifier"]
        arn = f"arn:{ctx.partition}:redshift:{ctx.region}:{ctx.account_id}:cluster:{name}"
        yield document(ctx, RESOURCE_TYPE, arn, name, cluster)
