"""Collector for AWS::ECS::Service, across every cluster, with awsvpc subnet AZs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import SUBNET_ACTIONS, subnet_zones, zones_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ECS::Service"
IAM_ACTIONS = frozenset({"ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices"}) | SUBNET_ACTIONS
DESCRIBE_BATCH = 10  # DescribeServices accepts at most 10 services per call
DOCUMENT = shapes.fields(
    shapes.Api(
        "ecs",
        "DescribeServices",
        "services[]",
        ("serviceArn", "serviceName", "clusterArn", "status", "networkConfiguration.awsvpcConfiguration.subnets"),
    ),
    SubnetAvailabilityZones=shapes.ZONES,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("ec2", "DescribeSubnets", "Subnets[]", ("SubnetId", "AvailabilityZone")),
    shapes.Api("ecs", "ListClusters", "clusterArns[]"),
    shapes.Api("ecs", "ListServices", "serviceArns[]"),
)


def _subnets(service: dict[str, Any]) -> list[str]:
    awsvpc = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    subnets: list[str] = awsvpc.get("subnets") or []
    return subnets


def _services(ctx: CollectorContext) -> Iterator[dict[str, Any]]:
    ecs = ctx.client("ecs")
    for cluster in paginate(ecs, "list_clusters", "clusterArns", ctx.page_size):
        arns = list(paginate(ecs, "list_services", "serviceArns", ctx.page_size, cluster=cluster))
        for start in range(0, len(arns), DESCRIBE_BATCH):
            response = ecs.describe_services(cluster=cluster, services=arns[start : start + DESCRIBE_BATCH])
            yield from response.get("services") or []


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every active service; awsvpc services get ``SubnetAvailabilityZones`` when a selected
    check reads it.
    """
    services = [service for service in _services(ctx) if service.get("status") != "INACTIVE"]
    wanted = ctx.wants("SubnetAvailabilityZones")
    zones = subnet_zones(ctx, (s for service in services for s in _subnets(service))) if wanted else {}
    for service in services:
        properties = dict(service)
        if wanted and _subnets(service):
            properties["SubnetAvailabilityZones"] = zones_of(_subnets(service), zones)
        name = f"{service['clusterArn'].rsplit('/', 1)[-1]}/{service['serviceName']}"  # unique per region
        yield document(ctx, RESOURCE_TYPE, service["serviceArn"], name, properties)
