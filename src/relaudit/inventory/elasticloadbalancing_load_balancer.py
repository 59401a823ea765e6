"""Collector for AWS::ElasticLoadBalancing::LoadBalancer (Classic Load Balancers), with attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import is_gone

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ElasticLoadBalancing::LoadBalancer"
IAM_ACTIONS = frozenset(
    {"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes"}
)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every Classic Load Balancer; ``LoadBalancerAttributes`` (cross-zone, connection
    draining) is fetched only when a selected check reads it.
    """
    elb = ctx.client("elb")
    for balancer in paginate(elb, "describe_load_balancers", "LoadBalancerDescriptions", ctx.page_size):
        name = balancer["LoadBalancerName"]
        properties = dict(balancer)
        if ctx.wants("LoadBalancerAttributes"):
            try:
                attributes = elb.describe_load_balancer_attributes(LoadBalancerName=name)
            except ClientError as exc:
                if is_gone(exc):
                    continue  # deleted since DescribeLoadBalancers
                raise
            properties["LoadBalancerAttributes"] = attributes.get("LoadBalancerAttributes") or {}
        arn = f"arn:{ctx.partition}:elasticloadbalancing:{ctx.region}:{ctx.account_id}:loadbalancer/{name}"
        yield document(ctx, RESOURCE_TYPE, arn, name, properties)
