"""Collector for AWS::EC2::VPC: each subnet with its zone, default route and NAT gateway zones."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import ec2_page_size, subnets

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::EC2::VPC"
IAM_ACTIONS = frozenset(
    {"ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeNatGateways"}
)
DEFAULT_ROUTE = "0.0.0.0/0"
DOCUMENT = shapes.fields(
    shapes.Api("ec2", "DescribeVpcs", "Vpcs[]", ("VpcId", "OwnerId", "Tags[].Key", "Tags[].Value")),
    Subnets=shapes.ListOf(
        shapes.fields(
            SubnetId=shapes.ANY,
            AvailabilityZone=shapes.ANY,
            RouteTableId=shapes.ANY,
            NatGatewayId=shapes.ANY,
            GatewayId=shapes.ANY,
            NatGatewayZones=shapes.ZONES,
        )
    ),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("ec2", "DescribeSubnets", "Subnets[]", ("SubnetId", "VpcId", "AvailabilityZone")),
    shapes.Api(
        "ec2",
        "DescribeRouteTables",
        "RouteTables[]",
        (
            "RouteTableId",
            "VpcId",
            "Associations[].Main",
            "Associations[].SubnetId",
            "Routes[].DestinationCidrBlock",
            "Routes[].NatGatewayId",
            "Routes[].GatewayId",
            "Routes[].State",
        ),
    ),
    shapes.Api("ec2", "DescribeNatGateways", "NatGateways[]", ("NatGatewayId", "SubnetId", "State")),
)


def _tag(resource: dict[str, Any], key: str) -> str | None:
    for tag in resource.get("Tags") or []:
        if tag.get("Key") == key:
            value: str = tag.get("Value", "")
            return value
    return None


def _route_tables(ctx: CollectorContext) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Return (route table by explicitly associated subnet, main route table by VPC)."""
    by_subnet: dict[str, dict[str, Any]] = {}
    main: dict[str, dict[str, Any]] = {}
    for table in paginate(ctx.client("ec2"), "describe_route_tables", "RouteTables", ec2_page_size(ctx)):
        for association in table.get("Associations") or []:
            if association.get("SubnetId"):
                by_subnet[association["SubnetId"]] = table
            elif association.get("Main"):
                main[table["VpcId"]] = table
    return by_subnet, main


def _nat_zones(
    ctx: CollectorContext, subnet_zone: dict[str, str], vpc_zones: dict[str, set[str]]
) -> dict[str, list[str]]:
    """Map NAT gateway id to the zones it serves: its subnet's zone (zonal), the zones of its
    addresses (regional), or every zone of its VPC (regional with automatic zone provisioning).
    """
    served: dict[str, list[str]] = {}
    nats = paginate(ctx.client("ec2"), "describe_nat_gateways", "NatGateways", ec2_page_size(ctx))
    for nat in nats:
        if nat.get("State") in ("deleting", "deleted", "failed"):
            continue
        if nat.get("AvailabilityMode") == "regional":
            if nat.get("AutoProvisionZones") == "enabled":
                zones = set(vpc_zones.get(nat.get("VpcId", ""), set()))
            else:
                zones = {
                    a["AvailabilityZone"] for a in nat.get("NatGatewayAddresses") or [] if a.get("AvailabilityZone")
                }
        else:
            zone = subnet_zone.get(nat.get("SubnetId", ""))
            zones = {zone} if zone else set()
        served[nat["NatGatewayId"]] = sorted(zones)
    return served


def _default_route(table: dict[str, Any] | None) -> dict[str, Any]:
    for route in (table or {}).get("Routes") or []:
        if route.get("DestinationCidrBlock") == DEFAULT_ROUTE:
            return dict(route)
    return {}


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every VPC the account owns, with ``Subnets``: for each subnet its ``AvailabilityZone``, ``RouteTableId``,
    IPv4 default route target (``NatGatewayId``, ``GatewayId``) and ``NatGatewayZones`` (the
    zones the routed NAT gateway serves; empty for a deleted or blackholed NAT gateway).
    """
    ec2 = ctx.client("ec2")
    # A VPC shared in through RAM is judged in its owner's account (where its NAT gateways and
    # route tables are visible), not once more in every participant's.
    vpcs = [
        vpc
        for vpc in paginate(ec2, "describe_vpcs", "Vpcs", ec2_page_size(ctx))
        if vpc.get("OwnerId", ctx.account_id) == ctx.account_id
    ]
    subnets_by_vpc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for subnet in subnets(ctx):
        subnets_by_vpc[subnet["VpcId"]].append(subnet)
    subnet_zone = {s["SubnetId"]: s["AvailabilityZone"] for group in subnets_by_vpc.values() for s in group}
    vpc_zones = {vpc: {s["AvailabilityZone"] for s in group} for vpc, group in subnets_by_vpc.items()}
    wanted = ctx.wants("Subnets")
    by_subnet, main = _route_tables(ctx) if wanted and vpcs else ({}, {})
    nat_zones = _nat_zones(ctx, subnet_zone, vpc_zones) if wanted and vpcs else {}
    for vpc in vpcs:
        vpc_id = vpc["VpcId"]
        properties = dict(vpc)
        if wanted:
            rows = []
            for subnet in sorted(subnets_by_vpc.get(vpc_id, []), key=lambda s: s["SubnetId"]):
                table = by_subnet.get(subnet["SubnetId"]) or main.get(vpc_id)
                route = _default_route(table)
                nat = route.get("NatGatewayId")
                rows.append(
                    {
                        "SubnetId": subnet["SubnetId"],
                        "AvailabilityZone": subnet["AvailabilityZone"],
                        "RouteTableId": (table or {}).get("RouteTableId"),
                        "NatGatewayId": nat,
                        "GatewayId": route.get("GatewayId"),
                        "NatGatewayZones": nat_zones.get(nat, []) if nat else [],
                    }
                )
            properties["Subnets"] = rows
        arn = f"arn:{ctx.partition}:ec2:{ctx.region}:{ctx.account_id}:vpc/{vpc_id}"
        yield document(ctx, RESOURCE_TYPE, arn, _tag(vpc, "Name") or vpc_id, properties)
