"""Collector for AWS::EC2::VPCEndpoint, with the zones of interface endpoint subnets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import SUBNET_ACTIONS, ec2_page_size, subnet_zones, zones_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::EC2::VPCEndpoint"
IAM_ACTIONS = frozenset({"ec2:DescribeVpcEndpoints"}) | SUBNET_ACTIONS
DOCUMENT = shapes.fields(
    shapes.Api("ec2", "DescribeVpcEndpoints", "VpcEndpoints[]", ("VpcEndpointId", "State", "SubnetIds", "OwnerId")),
    SubnetAvailabilityZones=shapes.ZONES,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("ec2", "DescribeSubnets", "Subnets[]", ("SubnetId", "AvailabilityZone")),)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every VPC endpoint; ``SubnetAvailabilityZones`` is added when a selected check reads it."""
    ec2 = ctx.client("ec2")
    endpoints = [
        endpoint
        for endpoint in paginate(ec2, "describe_vpc_endpoints", "VpcEndpoints", ec2_page_size(ctx))
        if endpoint.get("State", "").lower() not in ("deleting", "deleted", "rejected", "failed", "expired")
    ]
    wanted = ctx.wants("SubnetAvailabilityZones")
    zones = subnet_zones(ctx, (s for e in endpoints for s in e.get("SubnetIds") or [])) if wanted else {}
    for endpoint in endpoints:
        endpoint_id = endpoint["VpcEndpointId"]
        properties = dict(endpoint)
        if wanted:
            properties["SubnetAvailabilityZones"] = zones_of(endpoint.get("SubnetIds") or [], zones)
        owner = endpoint.get("OwnerId") or ctx.account_id
        arn = f"arn:{ctx.partition}:ec2:{ctx.region}:{owner}:vpc-endpoint/{endpoint_id}"
        yield document(ctx, RESOURCE_TYPE, arn, endpoint_id, properties)
