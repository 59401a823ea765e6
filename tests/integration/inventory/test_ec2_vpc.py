"""AWS::EC2::VPC collector on moto: subnets, their default routes and the zones of their NAT gateways."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import build_vpc, verdicts


def test_nat_gateway_per_zone_one_finding_per_vpc(aws: None, collect: Any) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    build_vpc(ec2, "zonal", "10.1.0.0/16", nat_per_zone=True)
    shared = build_vpc(ec2, "shared-nat", "10.2.0.0/16", nat_per_zone=False).vpc_id
    ec2.create_vpc(
        CidrBlock="10.3.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "empty"}]}],
    )

    docs = collect("AWS::EC2::VPC")

    assert {"zonal", "shared-nat", "empty"} <= set(docs), "plus moto's default VPC"
    assert docs["shared-nat"].arn == f"arn:aws:ec2:us-east-1:123456789012:vpc/{shared}"
    rows = docs["shared-nat"].properties["Subnets"]
    assert len(rows) == 4
    behind_nat = [row for row in rows if row["NatGatewayId"]]
    assert sorted(row["AvailabilityZone"] for row in behind_nat) == ["us-east-1a", "us-east-1b"]
    assert all(row["NatGatewayZones"] == ["us-east-1a"] for row in behind_nat)
    assert all(row["GatewayId"].startswith("igw-") for row in rows if not row["NatGatewayId"])
    mine = {name: docs[name] for name in ("zonal", "shared-nat", "empty")}
    assert verdicts("ec2-vpc-nat-gateway-per-az", mine) == {
        "zonal": "PASSED",
        "shared-nat": "FAILED",
        "empty": "NOT_APPLICABLE",
    }
    assert verdicts("ec2-vpc-subnets-multi-az", mine) == {
        "zonal": "PASSED",
        "shared-nat": "PASSED",
        "empty": "NOT_APPLICABLE",
    }


def test_subnet_without_explicit_table_uses_the_main_one(aws: None, collect: Any) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.4.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.4.0.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    nat_subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.4.1.0/24", AvailabilityZone="us-east-1a")["Subnet"][
        "SubnetId"
    ]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=nat_subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    main = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
    )
    ec2.create_route(
        RouteTableId=main["RouteTables"][0]["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat
    )

    docs = {d.properties["VpcId"]: d for d in collect("AWS::EC2::VPC").values()}

    rows = {row["SubnetId"]: row for row in docs[vpc].properties["Subnets"]}
    assert rows[subnet]["NatGatewayId"] == nat
    assert rows[subnet]["NatGatewayZones"] == ["us-east-1a"]
    assert verdicts("ec2-vpc-nat-gateway-per-az", {"v": docs[vpc]}) == {"v": "FAILED"}


def test_regional_nat_gateway_serves_the_zones_of_its_addresses(aws: None, factory: Any, collect: Any) -> None:
    """moto 5.2 has no regional NAT gateways (AvailabilityMode, per-zone addresses); an after-call
    hook turns the zonal one into the shape AWS returns for a regional one."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc_id = build_vpc(ec2, "regional", "10.5.0.0/16", nat_per_zone=False).vpc_id

    def make_regional(parsed: dict[str, Any], **_: Any) -> None:
        for nat in parsed.get("NatGateways", []):
            if nat["VpcId"] == vpc_id:
                nat["AvailabilityMode"] = "regional"
                nat.pop("SubnetId", None)
                nat["NatGatewayAddresses"] = [{"AvailabilityZone": "us-east-1a"}, {"AvailabilityZone": "us-east-1b"}]

    factory.client("ec2", "us-east-1").meta.events.register("after-call.ec2.DescribeNatGateways", make_regional)

    docs = collect("AWS::EC2::VPC")

    behind_nat = [row for row in docs["regional"].properties["Subnets"] if row["NatGatewayId"]]
    assert all(row["NatGatewayZones"] == ["us-east-1a", "us-east-1b"] for row in behind_nat)
    assert verdicts("ec2-vpc-nat-gateway-per-az", {"regional": docs["regional"]}) == {"regional": "PASSED"}


def test_vpc_shared_in_from_another_account_is_left_to_its_owner(aws: None, factory: Any, collect: Any) -> None:
    """moto has no RAM-shared VPCs; an after-call hook marks one as owned by another account."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    shared = build_vpc(ec2, "shared-in", "10.6.0.0/16", nat_per_zone=False).vpc_id

    def owned_elsewhere(parsed: dict[str, Any], **_: Any) -> None:
        for vpc in parsed.get("Vpcs", []):
            if vpc["VpcId"] == shared:
                vpc["OwnerId"] = "210987654321"

    factory.client("ec2", "us-east-1").meta.events.register("after-call.ec2.DescribeVpcs", owned_elsewhere)

    assert "shared-in" not in collect("AWS::EC2::VPC")
