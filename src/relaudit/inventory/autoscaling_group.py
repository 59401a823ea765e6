"""Collector for AWS::AutoScaling::AutoScalingGroup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::AutoScaling::AutoScalingGroup"
IAM_ACTIONS = frozenset({"autoscaling:DescribeAutoScalingGroups"})
_PAGE = 100  # DescribeAutoScalingGroups' largest page (the default is 50)
DOCUMENT = shapes.fields(
    shapes.Api(
        "autoscaling",
        "DescribeAutoScalingGroups",
        "AutoScalingGroups[]",
        ("AutoScalingGroupARN", "AutoScalingGroupName"),
    )
)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every Auto Scaling group."""
    autoscaling = ctx.client("autoscaling")
    for group in paginate(autoscaling, "describe_auto_scaling_groups", "AutoScalingGroups", ctx.page_size or _PAGE):
        yield document(ctx, RESOURCE_TYPE, group["AutoScalingGroupARN"], group["AutoScalingGroupName"], group)
