"""AWS::EC2::VPCEndpoint collector on moto: interface endpoint subnet zones."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import verdicts


def test_endpoint_zones_and_verdicts(aws: None, collect: Any) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a, b = (
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(("us-east-1a", "us-east-1b"))
    )
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]

    def endpoint(service: str, **extra: Any) -> str:
        response = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.us-east-1.{service}", **extra)
        endpoint_id: str = response["VpcEndpoint"]["VpcEndpointId"]
        return endpoint_id

    spread = endpoint("sqs", VpcEndpointType="Interface", SubnetIds=[a, b])
    single = endpoint("sts", VpcEndpointType="Interface", SubnetIds=[a])
    gateway = endpoint("s3", VpcEndpointType="Gateway", RouteTableIds=[table])

    docs = collect("AWS::EC2::VPCEndpoint")

    assert docs[spread].arn == f"arn:aws:ec2:us-east-1:123456789012:vpc-endpoint/{spread}"
    assert sorted(docs[spread].properties["SubnetAvailabilityZones"]) == ["us-east-1a", "us-east-1b"]
    assert verdicts("ec2-vpc-endpoint-multi-az", {k: docs[k] for k in (spread, single, gateway)}) == {
        spread: "PASSED",
        single: "FAILED",
        gateway: "NOT_APPLICABLE",
    }
