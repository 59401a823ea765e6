"""AWS::AutoScaling::AutoScalingGroup on moto: load balancer attachments and health check type."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import verdicts


def test_elb_health_check_verdicts(aws: None, collect: Any) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ec2.create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}
    )
    target_group = boto3.client("elbv2", region_name="us-east-1").create_target_group(
        Name="web", Protocol="HTTP", Port=80, VpcId=vpc
    )["TargetGroups"][0]["TargetGroupArn"]
    autoscaling = boto3.client("autoscaling", region_name="us-east-1")
    for name, health, groups in (
        ("elb-checked", "ELB", [target_group]),
        ("ec2-only", "EC2", [target_group]),
        ("batch", "EC2", []),
    ):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": "web-lt"},
            MinSize=0,
            MaxSize=1,
            VPCZoneIdentifier=subnet,
            TargetGroupARNs=groups,
            HealthCheckType=health,
        )

    docs = collect("AWS::AutoScaling::AutoScalingGroup")

    assert docs["elb-checked"].properties["TargetGroupARNs"] == [target_group]
    assert verdicts("autoscaling-group-elb-health-check", docs) == {
        "elb-checked": "PASSED",
        "ec2-only": "FAILED",
        "batch": "NOT_APPLICABLE",
    }
