"""Collector for AWS::MSK::Cluster (provisioned and serverless), with broker subnet AZs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import SUBNET_ACTIONS, subnet_zones, zones_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::MSK::Cluster"
IAM_ACTIONS = frozenset({"kafka:ListClustersV2"}) | SUBNET_ACTIONS
DOCUMENT = shapes.fields(
    shapes.Api(
        "kafka",
        "ListClustersV2",
        "ClusterInfoList[]",
        ("ClusterArn", "ClusterName", "ClusterType", "Provisioned.BrokerNodeGroupInfo.ClientSubnets"),
    ),
    BrokerAvailabilityZones=shapes.ZONES,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("ec2", "DescribeSubnets", "Subnets[]", ("SubnetId", "AvailabilityZone")),)


def _client_subnets(cluster: dict[str, Any]) -> list[str]:
    broker_group = (cluster.get("Provisioned") or {}).get("BrokerNodeGroupInfo") or {}
    subnets: list[str] = broker_group.get("ClientSubnets") or []
    return subnets


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every cluster; provisioned ones get ``BrokerAvailabilityZones`` (the zones of their
    client subnets, where MSK places brokers) when a selected check reads it.
    """
    kafka = ctx.client("kafka")
    clusters = list(paginate(kafka, "list_clusters_v2", "ClusterInfoList", ctx.page_size))
    wanted = ctx.wants("BrokerAvailabilityZones")
    zones = subnet_zones(ctx, (s for c in clusters for s in _client_subnets(c))) if wanted else {}
    for cluster in clusters:
        properties = dict(cluster)
        if wanted and cluster.get("ClusterType") == "PROVISIONED":
            properties["BrokerAvailabilityZones"] = zones_of(_client_subnets(cluster), zones)
        yield document(ctx, RESOURCE_TYPE, cluster["ClusterArn"], cluster["ClusterName"], properties)
