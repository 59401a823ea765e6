"""AWS::ElasticLoadBalancingV2::LoadBalancer attributes on moto (deletion protection, cross-zone)."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import collect_needing, verdicts


def subnets(ec2: Any) -> list[str]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]


def test_attributes_as_a_map(aws: None, collect: Any, calls: Any) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    zones = subnets(boto3.client("ec2", region_name="us-east-1"))
    guarded = elbv2.create_load_balancer(Name="guarded", Subnets=zones, Type="network")["LoadBalancers"][0]
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=guarded["LoadBalancerArn"],
        Attributes=[
            {"Key": "deletion_protection.enabled", "Value": "true"},
            {"Key": "load_balancing.cross_zone.enabled", "Value": "true"},
        ],
    )
    elbv2.create_load_balancer(Name="bare-nlb", Subnets=zones, Type="network")
    elbv2.create_load_balancer(Name="bare-alb", Subnets=zones)
    seen = calls("elbv2")

    docs = collect("AWS::ElasticLoadBalancingV2::LoadBalancer")

    assert seen.count("DescribeLoadBalancerAttributes") == 3
    assert docs["guarded"].properties["Attributes"]["deletion_protection.enabled"] == "true"
    assert verdicts("elbv2-load-balancer-deletion-protection", docs) == {
        "guarded": "PASSED",
        "bare-nlb": "FAILED",
        "bare-alb": "FAILED",
    }
    assert verdicts("elbv2-load-balancer-cross-zone", docs) == {
        "guarded": "PASSED",
        "bare-nlb": "FAILED",
        "bare-alb": "NOT_APPLICABLE",
    }


def test_attributes_fetched_only_when_a_check_reads_them(aws: None, factory: Any, calls: Any) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    elbv2.create_load_balancer(Name="web", Subnets=subnets(boto3.client("ec2", region_name="us-east-1")))
    seen = calls("elbv2")
    docs = collect_needing(factory, "AWS::ElasticLoadBalancingV2::LoadBalancer", frozenset({"AvailabilityZoneNames"}))
    assert seen == ["DescribeLoadBalancers"]
    assert "Attributes" not in docs["web"].properties


def test_load_balancer_deleted_after_listing_is_skipped(aws: None, factory: Any, collect: Any) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    zones = subnets(boto3.client("ec2", region_name="us-east-1"))
    elbv2.create_load_balancer(Name="kept", Subnets=zones)
    gone = elbv2.create_load_balancer(Name="gone", Subnets=zones)["LoadBalancers"][0]["LoadBalancerArn"]

    def delete_after_listing(**_: Any) -> None:
        boto3.client("elbv2", region_name="us-east-1").delete_load_balancer(LoadBalancerArn=gone)

    factory.client("elbv2", "us-east-1").meta.events.register(
        "after-call.elbv2.DescribeLoadBalancers", delete_after_listing
    )

    assert sorted(collect("AWS::ElasticLoadBalancingV2::LoadBalancer", page_size=None)) == ["kept"]
