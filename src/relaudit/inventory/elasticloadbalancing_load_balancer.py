"""Collector for AWS::ElasticLoadBalancing::LoadBalancer (Classic Load Balancers), with attributes."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import is_gone

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ElasticLoadBalancing::LoadBalancer"
IAM_ACTIONS = frozenset(
    {"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes"}
)
_PAGE = 400  # DescribeLoadBalancers' largest page (the default is smaller)
DOCUMENT = shapes.fields(
    shapes.Api("elb", "DescribeLoadBalancers", "LoadBalancerDescriptions[]", ("LoadBalancerName",)),
    LoadBalancerAttributes=shapes.Api("elb", "DescribeLoadBalancerAttributes", "LoadBalancerAttributes"),
)


def _attributes(ctx: CollectorContext, name: str) -> dict[str, Any] | None:
    """The load balancer's attributes; None if it is gone."""
    try:
        response = ctx.client("elb").describe_load_balancer_attributes(LoadBalancerName=name)
    except ClientError as exc:
        if is_gone(exc):
            return None  # deleted since DescribeLoadBalancers
        raise
    attributes: dict[str, Any] = response.get("LoadBalancerAttributes") or {}
    return attributes


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every Classic Load Balancer; ``LoadBalancerAttributes`` (cross-zone, connection
    draining) is fetched, per load balancer through ``ctx.map``, only when a selected check reads it.
    """
    elb = ctx.client("elb")
    balancers = list(paginate(elb, "describe_load_balancers", "LoadBalancerDescriptions", ctx.page_size or _PAGE))
    names = [balancer["LoadBalancerName"] for balancer in balancers]
    wanted = ctx.wants("LoadBalancerAttributes")
    attributes = ctx.map(partial(_attributes, ctx), names) if wanted else iter([{}] * len(names))
    for balancer, found in zip(balancers, attributes, strict=True):
        if found is None:
            continue
        name = balancer["LoadBalancerName"]
        properties = {**balancer, "LoadBalancerAttributes": found} if wanted else dict(balancer)
        arn = f"arn:{ctx.partition}:elasticloadbalancing:{ctx.region}:{ctx.account_id}:loadbalancer/{name}"
        yield document(ctx, RESOURCE_TYPE, arn, name, properties)
