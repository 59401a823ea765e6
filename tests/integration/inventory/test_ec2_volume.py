"""AWS::EC2::Volume collector on moto: a volume counts as backed up through its instance's backup."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import protected, stub_protected_resources, verdicts

PREFIX = "arn:aws:ec2:us-east-1:123456789012"


def test_volume_or_instance_recovery_points(aws: None, factory: Any, collect: Any) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.register_image(Name="test-ami", RootDeviceName="/dev/xvda")["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]
    attached = ec2.create_volume(AvailabilityZone=instance["Placement"]["AvailabilityZone"], Size=10)["VolumeId"]
    ec2.attach_volume(VolumeId=attached, InstanceId=instance["InstanceId"], Device="/dev/sdf")
    own = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10)["VolumeId"]
    bare = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10)["VolumeId"]
    stale = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10)["VolumeId"]
    stubber = stub_protected_resources(
        factory,
        [
            protected(f"{PREFIX}:instance/{instance['InstanceId']}", 0.5, "EC2"),
            protected(f"{PREFIX}:volume/{own}", 1.0, "EBS"),
            protected(f"{PREFIX}:volume/{stale}", 10, "EBS"),
        ],
    )

    docs = collect("AWS::EC2::Volume")

    stubber.assert_no_pending_responses()
    assert docs[own].arn == f"{PREFIX}:volume/{own}"
    picked = {name: docs[name] for name in (attached, own, bare, stale)}
    assert verdicts("ec2-volume-aws-backup-recent", picked) == {
        attached: "PASSED",  # through the instance's recovery point
        own: "PASSED",
        bare: "FAILED",
        stale: "FAILED",
    }
