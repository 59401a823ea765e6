"""Per-resource enrichment of the data-store and load balancer collectors goes through ctx.map."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import boto3
import pytest

from relaudit.inventory import load_collector
from relaudit.inventory.base import CollectorContext
from tests.integration.inventory.catalog_support import ACCOUNT, REGION


def make_table() -> None:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="orders",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )


def make_file_system() -> None:
    boto3.client("efs", region_name=REGION).create_file_system(CreationToken="fs")


def make_classic() -> None:
    boto3.client("elb", region_name=REGION).create_load_balancer(
        LoadBalancerName="web",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=[f"{REGION}a"],
    )


def make_elbv2() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    boto3.client("elbv2", region_name=REGION).create_load_balancer(Name="web", Subnets=[subnet])


@pytest.mark.parametrize(
    ("resource_type", "make", "needs"),
    [
        ("AWS::DynamoDB::Table", make_table, {"PointInTimeRecoveryStatus"}),
        ("AWS::EFS::FileSystem", make_file_system, {"BackupPolicy"}),
        ("AWS::ElasticLoadBalancing::LoadBalancer", make_classic, {"LoadBalancerAttributes"}),
        ("AWS::ElasticLoadBalancingV2::LoadBalancer", make_elbv2, {"Attributes"}),
    ],
)
def test_enrichment_runs_on_the_context_mapper(
    aws: None, factory: Any, resource_type: str, make: Callable[[], None], needs: set[str]
) -> None:
    make()
    mapped: list[Any] = []

    def recording_map(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        mapped.extend(items)
        return map(fn, items)

    ctx = CollectorContext(ACCOUNT, REGION, factory.bound(REGION), "aws", 2, frozenset(needs), mapper=recording_map)
    [doc] = load_collector(resource_type).collect(ctx)

    assert len(mapped) == 1
    assert needs <= set(doc.properties)
