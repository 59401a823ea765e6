"""AWS::ElasticLoadBalancingV2::LoadBalancer on moto: attributes (deletion protection, cross-zone) and the
Lambda functions its target groups route to."""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import boto3
from botocore.exceptions import ClientError

from relaudit.inventory import load_collector
from relaudit.inventory.base import CollectorContext
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


def _lambda_group(elbv2: Any, name: str, function_arn: str | None) -> str:
    arn: str = elbv2.create_target_group(Name=name, TargetType="lambda")["TargetGroups"][0]["TargetGroupArn"]
    if function_arn:
        elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": function_arn}])
    return arn


def _forward(elbv2: Any, balancer: str, groups: list[str]) -> None:
    """A listener forwarding to the first group and one rule per further group (moto fills each
    group's LoadBalancerArns from them, as AWS does)."""
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": groups[0]}],
    )["Listeners"][0]["ListenerArn"]
    for priority, group in enumerate(groups[1:], start=1):
        elbv2.create_rule(
            ListenerArn=listener,
            Priority=priority,
            Conditions=[{"Field": "path-pattern", "Values": [f"/{priority}"]}],
            Actions=[{"Type": "forward", "TargetGroupArn": group}],
        )


FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:"


def test_lambda_targets_of_each_load_balancer_from_one_region_wide_listing(aws: None, collect: Any, calls: Any) -> None:
    # moto 5.2 registers Lambda targets without checking the function exists and ignores
    # DescribeTargetGroups' page size (one page): the pagination itself is not exercised here.
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    zones = subnets(ec2)
    vpc = ec2.describe_subnets(SubnetIds=zones[:1])["Subnets"][0]["VpcId"]
    web = elbv2.create_load_balancer(Name="web", Subnets=zones)["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.create_load_balancer(Name="plain", Subnets=zones)
    orders = _lambda_group(elbv2, "orders", FUNCTION + "orders:live")
    search = _lambda_group(elbv2, "search", FUNCTION + "search")
    _lambda_group(elbv2, "unused", FUNCTION + "unused")  # no load balancer routes to it
    instances = elbv2.create_target_group(Name="instances", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    _forward(elbv2, web, [orders, search, instances["TargetGroupArn"]])
    seen = calls("elbv2")

    docs = collect("AWS::ElasticLoadBalancingV2::LoadBalancer")

    assert docs["web"].properties["LambdaTargets"] == [
        {"TargetGroupArn": orders, "FunctionArn": FUNCTION + "orders:live"},
        {"TargetGroupArn": search, "FunctionArn": FUNCTION + "search"},
    ]
    assert docs["plain"].properties["LambdaTargets"] == []
    assert seen.count("DescribeTargetGroups") == 1
    assert seen.count("DescribeTargetHealth") == 2, "only the lambda groups a load balancer routes to"


def test_lambda_targets_read_only_for_the_graph(aws: None, factory: Any, calls: Any) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    web = elbv2.create_load_balancer(Name="web", Subnets=subnets(boto3.client("ec2", region_name="us-east-1")))
    _forward(elbv2, web["LoadBalancers"][0]["LoadBalancerArn"], [_lambda_group(elbv2, "fn", FUNCTION + "fn")])
    seen = calls("elbv2")
    docs = collect_needing(factory, "AWS::ElasticLoadBalancingV2::LoadBalancer", frozenset({"LambdaTargets"}))
    assert seen == ["DescribeLoadBalancers", "DescribeTargetGroups", "DescribeTargetHealth"]
    assert docs["web"].properties["LambdaTargets"] == [{"TargetGroupArn": ANY, "FunctionArn": FUNCTION + "fn"}]


def test_a_refused_target_group_listing_costs_only_the_lambda_targets(aws: None, factory: Any) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    elbv2.create_load_balancer(Name="web", Subnets=subnets(boto3.client("ec2", region_name="us-east-1")))

    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "DescribeTargetGroups")

    factory.client("elbv2", "us-east-1").meta.events.register_first(
        "before-call.elastic-load-balancing-v2.DescribeTargetGroups", denied
    )
    ctx = CollectorContext(
        "123456789012", "us-east-1", factory.bound("us-east-1"), "aws", 2, needs=frozenset({"LambdaTargets"})
    )

    (doc,) = load_collector("AWS::ElasticLoadBalancingV2::LoadBalancer").collect(ctx)

    assert "LambdaTargets" not in doc.properties
    assert [name for name, _ in ctx.incomplete] == ["LambdaTargets"]


def test_a_target_group_deleted_after_listing_has_no_targets(aws: None, factory: Any) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    web = elbv2.create_load_balancer(Name="web", Subnets=subnets(boto3.client("ec2", region_name="us-east-1")))
    balancer = web["LoadBalancers"][0]["LoadBalancerArn"]
    group = _lambda_group(elbv2, "fn", FUNCTION + "fn")
    _forward(elbv2, balancer, [group])

    def gone(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "TargetGroupNotFound", "Message": "gone"}}, "DescribeTargetHealth")

    factory.client("elbv2", "us-east-1").meta.events.register_first(
        "before-call.elastic-load-balancing-v2.DescribeTargetHealth", gone
    )
    docs = collect_needing(factory, "AWS::ElasticLoadBalancingV2::LoadBalancer", frozenset({"LambdaTargets"}))
    assert docs["web"].properties["LambdaTargets"] == []
