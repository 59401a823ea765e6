"""AWS::ElasticLoadBalancingV2::LoadBalancer and AWS::AutoScaling::AutoScalingGroup on moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest


@pytest.fixture
def subnets(aws: None) -> list[str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("abc")
    ]


def test_load_balancers_across_pages_with_zone_names(subnets: list[str], collect: Any, calls: Any) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-east-1")
    for i in range(4):
        elbv2.create_load_balancer(Name=f"alb-{i}", Subnets=subnets[:2])
    elbv2.create_load_balancer(Name="nlb-single", Subnets=subnets[:1], Type="network")
    seen = calls("elbv2")
    docs = collect("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert len(docs) == 5
    assert seen.count("DescribeLoadBalancers") >= 3
    assert sorted(docs["alb-0"].properties["AvailabilityZoneNames"]) == ["us-east-1a", "us-east-1b"]
    assert docs["nlb-single"].properties["AvailabilityZoneNames"] == ["us-east-1a"]
    # The ARN is the API's own; moto 5.2 writes "loadbalancer/app/" even for a network LB (AWS: "net/").
    assert docs["nlb-single"].arn.startswith("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/")
    assert docs["nlb-single"].arn == docs["nlb-single"].properties["LoadBalancerArn"]


def test_auto_scaling_groups_across_pages(subnets: list[str], collect: Any, calls: Any) -> None:
    boto3.client("ec2", region_name="us-east-1").create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}
    )
    autoscaling = boto3.client("autoscaling", region_name="us-east-1")
    for i in range(5):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=f"asg-{i}",
            LaunchTemplate={"LaunchTemplateName": "web-lt"},
            MinSize=0,
            MaxSize=1,
            VPCZoneIdentifier=",".join(subnets[: 1 + i % 3]),
        )
    seen = calls("autoscaling")
    docs = collect("AWS::AutoScaling::AutoScalingGroup")
    assert len(docs) == 5
    assert seen.count("DescribeAutoScalingGroups") >= 3
    assert docs["asg-0"].properties["AvailabilityZones"] == ["us-east-1a"]
    assert sorted(docs["asg-2"].properties["AvailabilityZones"]) == ["us-east-1a", "us-east-1b", "us-east-1c"]
