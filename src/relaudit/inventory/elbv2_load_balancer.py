"""Collector for AWS::ElasticLoadBalancingV2::LoadBalancer (ALB, NLB, GWLB)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
IAM_ACTIONS = frozenset({"elasticloadbalancing:DescribeLoadBalancers"})


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every load balancer, with ``AvailabilityZoneNames`` flattened for checks."""
    elbv2 = ctx.client("elbv2")
    for balancer in paginate(elbv2, "describe_load_balancers", "LoadBalancers", ctx.page_size):
        zones = [zone.get("ZoneName") for zone in balancer.get("AvailabilityZones") or []]
        properties = {**balancer, "AvailabilityZoneNames": zones}
        yield document(ctx, RESOURCE_TYPE, balancer["LoadBalancerArn"], balancer["LoadBalancerName"], properties)
