"""Collector for AWS::ElasticLoadBalancingV2::LoadBalancer (ALB, NLB, GWLB), with attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import is_gone

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
IAM_ACTIONS = frozenset(
    {"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes"}
)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every load balancer, with ``AvailabilityZoneNames`` flattened for checks and, when a
    selected check reads it, ``Attributes``: the load balancer attributes as a key-to-value map
    (read them as ``Attributes."deletion_protection.enabled"``).
    """
    elbv2 = ctx.client("elbv2")
    for balancer in paginate(elbv2, "describe_load_balancers", "LoadBalancers", ctx.page_size):
        arn = balancer["LoadBalancerArn"]
        zones = [zone.get("ZoneName") for zone in balancer.get("AvailabilityZones") or []]
        properties = {**balancer, "AvailabilityZoneNames": zones}
        if ctx.wants("Attributes"):
            try:
                attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn).get("Attributes") or []
            except ClientError as exc:
                if is_gone(exc):
                    continue  # deleted since DescribeLoadBalancers
                raise
            properties["Attributes"] = {item["Key"]: item.get("Value") for item in attributes}
        yield document(ctx, RESOURCE_TYPE, arn, balancer["LoadBalancerName"], properties)
