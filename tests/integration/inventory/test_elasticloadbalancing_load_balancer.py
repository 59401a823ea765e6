"""AWS::ElasticLoadBalancing::LoadBalancer (Classic) collector on moto: pages and attributes."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import collect_needing, verdicts

LISTENERS = [{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}]


def test_balancers_across_pages_with_attributes(aws: None, collect: Any, calls: Any) -> None:
    elb = boto3.client("elb", region_name="us-east-1")
    elb.create_load_balancer(
        LoadBalancerName="spread", Listeners=LISTENERS, AvailabilityZones=["us-east-1a", "us-east-1b"]
    )
    elb.modify_load_balancer_attributes(
        LoadBalancerName="spread",
        LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": True},
            "ConnectionDraining": {"Enabled": True, "Timeout": 300},
        },
    )
    for i in range(2):
        elb.create_load_balancer(LoadBalancerName=f"single-{i}", Listeners=LISTENERS, AvailabilityZones=["us-east-1a"])
    seen = calls("elb")

    docs = collect("AWS::ElasticLoadBalancing::LoadBalancer")

    assert sorted(docs) == ["single-0", "single-1", "spread"]
    assert seen.count("DescribeLoadBalancers") >= 2, "page size 2 over 3 load balancers needs 2 pages"
    assert seen.count("DescribeLoadBalancerAttributes") == 3
    assert docs["spread"].arn == "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/spread"
    picked = {"spread": docs["spread"], "single-0": docs["single-0"]}
    for check in (
        "elb-load-balancer-multi-az",
        "elb-load-balancer-cross-zone",
        "elb-load-balancer-connection-draining",
    ):
        assert verdicts(check, picked) == {"spread": "PASSED", "single-0": "FAILED"}, check


def test_attributes_fetched_only_when_a_check_reads_them(aws: None, factory: Any, calls: Any) -> None:
    boto3.client("elb", region_name="us-east-1").create_load_balancer(
        LoadBalancerName="web", Listeners=LISTENERS, AvailabilityZones=["us-east-1a"]
    )
    seen = calls("elb")
    docs = collect_needing(factory, "AWS::ElasticLoadBalancing::LoadBalancer", frozenset({"AvailabilityZones"}))
    assert seen == ["DescribeLoadBalancers"]
    assert "LoadBalancerAttributes" not in docs["web"].properties
