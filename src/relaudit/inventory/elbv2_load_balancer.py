"""Collector for AWS::ElasticLoadBalancingV2::LoadBalancer (ALB, NLB, GWLB), with attributes and the
Lambda functions its target groups route to."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.joins import guarded
from relaudit.inventory.lookups import is_gone

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
IAM_ACTIONS = frozenset(
    {
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    }
)
_PAGE = 400  # DescribeLoadBalancers' and DescribeTargetGroups' largest page (the default is smaller)
DOCUMENT = shapes.fields(
    shapes.Api(
        "elbv2",
        "DescribeLoadBalancers",
        "LoadBalancers[]",
        ("LoadBalancerArn", "LoadBalancerName", "AvailabilityZones[].ZoneName"),
    ),
    AvailabilityZoneNames=shapes.ZONES,
    Attributes=shapes.ANY,  # {Key: Value}: the keys are the attribute names AWS documents
    LambdaTargets=shapes.ListOf(shapes.fields(TargetGroupArn=shapes.ANY, FunctionArn=shapes.ANY)),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("elbv2", "DescribeLoadBalancerAttributes", "Attributes[]", ("Key", "Value")),
    shapes.Api("elbv2", "DescribeTargetGroups", "TargetGroups[]", ("TargetGroupArn", "TargetType", "LoadBalancerArns")),
    shapes.Api("elbv2", "DescribeTargetHealth", "TargetHealthDescriptions[]", ("Target.Id",)),
)


def _attributes(ctx: CollectorContext, arn: str) -> dict[str, Any] | None:
    """The load balancer's attributes as a key-to-value map; None if it is gone."""
    try:
        attributes = ctx.client("elbv2").describe_load_balancer_attributes(LoadBalancerArn=arn).get("Attributes")
    except ClientError as exc:
        if is_gone(exc):
            return None  # deleted since DescribeLoadBalancers
        raise
    return {item["Key"]: item.get("Value") for item in attributes or []}


def _functions_of(ctx: CollectorContext, group_arn: str) -> list[str]:
    """The function ARNs registered in a ``lambda`` target group (as registered: an alias or version
    qualifier stays); none when the group is gone."""
    try:
        health = ctx.client("elbv2").describe_target_health(TargetGroupArn=group_arn)
    except ClientError as exc:
        if is_gone(exc):
            return []  # deleted since DescribeTargetGroups
        raise
    found = {(d.get("Target") or {}).get("Id") for d in health.get("TargetHealthDescriptions") or []}
    return sorted(arn for arn in found if arn)


def lambda_targets(ctx: CollectorContext) -> dict[str, list[dict[str, str]]]:
    """Load balancer ARN -> ``[{TargetGroupArn, FunctionArn}]``: the Lambda functions its target
    groups route to. DescribeTargetGroups once per region (every group lists the load balancers
    whose listeners route to it), then DescribeTargetHealth once per ``lambda`` group some load
    balancer uses (a Lambda target group holds one function). Targets are listed whatever their
    health: an unhealthy function is still what the load balancer calls."""
    elbv2 = ctx.client("elbv2")
    groups = [
        group
        for group in paginate(elbv2, "describe_target_groups", "TargetGroups", ctx.page_size or _PAGE)
        if group.get("TargetType") == "lambda" and group.get("LoadBalancerArns")
    ]
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    arns = [group["TargetGroupArn"] for group in groups]
    for group, functions in zip(groups, ctx.map(partial(_functions_of, ctx), arns), strict=True):
        for balancer in group["LoadBalancerArns"]:
            found[balancer].extend({"TargetGroupArn": group["TargetGroupArn"], "FunctionArn": f} for f in functions)
    return dict(found)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every load balancer, with ``AvailabilityZoneNames`` flattened for checks and, when a
    selected check reads them:

    - ``Attributes``: the load balancer attributes as a key-to-value map (read them as
      ``Attributes."deletion_protection.enabled"``), fetched through ``ctx.map``;
    - ``LambdaTargets``: ``[{TargetGroupArn, FunctionArn}]``, the functions its ``lambda`` target
      groups route to (see :func:`lambda_targets`; the workload graph's ALB -> Lambda edges). A
      refused join leaves the field out and reports the unit incomplete (``joins.guarded``).
    """
    elbv2 = ctx.client("elbv2")
    balancers = list(paginate(elbv2, "describe_load_balancers", "LoadBalancers", ctx.page_size or _PAGE))
    arns = [balancer["LoadBalancerArn"] for balancer in balancers]
    wanted = ctx.wants("Attributes")
    attributes = ctx.map(partial(_attributes, ctx), arns) if wanted else iter([{}] * len(arns))
    targets = guarded(ctx, "LambdaTargets", lambda_targets, ctx) if balancers and ctx.wants("LambdaTargets") else None
    for balancer, found in zip(balancers, attributes, strict=True):
        if found is None:
            continue
        zones = [zone.get("ZoneName") for zone in balancer.get("AvailabilityZones") or []]
        properties = {**balancer, "AvailabilityZoneNames": zones}
        if wanted:
            properties["Attributes"] = found
        if targets is not None:
            properties["LambdaTargets"] = targets.get(balancer["LoadBalancerArn"], [])
        yield document(ctx, RESOURCE_TYPE, balancer["LoadBalancerArn"], balancer["LoadBalancerName"], properties)
