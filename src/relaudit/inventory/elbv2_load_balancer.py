"""Collector for AWS::ElasticLoadBalancingV2::LoadBalancer (ALB, NLB, GWLB), with attributes."""

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

RESOURCE_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
IAM_ACTIONS = frozenset(
    {"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes"}
)
_PAGE = 400  # DescribeLoadBalancers' largest page (the default is smaller)
DOCUMENT = shapes.fields(
    shapes.Api(
        "elbv2",
        "DescribeLoadBalancers",
        "LoadBalancers[]",
        ("LoadBalancerArn", "LoadBalancerName", "AvailabilityZones[].ZoneName"),
    ),
    AvailabilityZoneNames=shapes.ZONES,
    Attributes=shapes.ANY,  # {Key: Value}: the keys are the attribute names AWS documents
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("elbv2", "DescribeLoadBalancerAttributes", "Attributes[]", ("Key", "Value")),)


def _attributes(ctx: CollectorContext, arn: str) -> dict[str, Any] | None:
    """The load balancer's attributes as a key-to-value map; None if it is gone."""
    try:
        attributes = ctx.client("elbv2").describe_load_balancer_attributes(LoadBalancerArn=arn).get("Attributes")
    except ClientError as exc:
        if is_gone(exc):
            return None  # deleted since DescribeLoadBalancers
        raise
    return {item["Key"]: item.get("Value") for item in attributes or []}


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every load balancer, with ``AvailabilityZoneNames`` flattened for checks and, when a
    selected check reads it, ``Attributes``: the load balancer attributes as a key-to-value map
    (read them as ``Attributes."deletion_protection.enabled"``), fetched through ``ctx.map``.
    """
    elbv2 = ctx.client("elbv2")
    balancers = list(paginate(elbv2, "describe_load_balancers", "LoadBalancers", ctx.page_size or _PAGE))
    arns = [balancer["LoadBalancerArn"] for balancer in balancers]
    wanted = ctx.wants("Attributes")
    attributes = ctx.map(partial(_attributes, ctx), arns) if wanted else iter([{}] * len(arns))
    for balancer, found in zip(balancers, attributes, strict=True):
        if found is None:
            continue
        zones = [zone.get("ZoneName") for zone in balancer.get("AvailabilityZones") or []]
        properties = {**balancer, "AvailabilityZoneNames": zones}
        if wanted:
            properties["Attributes"] = found
        yield document(ctx, RESOURCE_TYPE, balancer["LoadBalancerArn"], balancer["LoadBalancerName"], properties)
