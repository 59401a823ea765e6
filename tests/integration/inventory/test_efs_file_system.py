"""AWS::EFS::FileSystem collector on moto: One Zone, mount-target zones, backup policy, AWS Backup."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import collect_needing, protected, stub_protected_resources, verdicts


def test_enrichments_across_pages(aws: None, factory: Any, collect: Any, calls: Any) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a, b = (
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(("us-east-1a", "us-east-1b"))
    )
    efs = boto3.client("efs", region_name="us-east-1")
    regional = efs.create_file_system(CreationToken="regional", Backup=True, Tags=[{"Key": "Name", "Value": "shared"}])
    one_zone = efs.create_file_system(CreationToken="one-zone", AvailabilityZoneName="us-east-1a")
    lopsided = efs.create_file_system(CreationToken="lopsided")
    for subnet in (a, b):
        efs.create_mount_target(FileSystemId=regional["FileSystemId"], SubnetId=subnet)
    efs.create_mount_target(FileSystemId=one_zone["FileSystemId"], SubnetId=a)
    efs.create_mount_target(FileSystemId=lopsided["FileSystemId"], SubnetId=a)
    stubber = stub_protected_resources(factory, [protected(regional["FileSystemArn"], 0.3, "EFS")])
    seen = calls("efs")

    docs = collect("AWS::EFS::FileSystem")

    stubber.assert_no_pending_responses()
    shared, single, partial = docs["shared"], docs[one_zone["FileSystemId"]], docs[lopsided["FileSystemId"]]
    assert seen.count("DescribeFileSystems") >= 2, "page size 2 over 3 file systems needs 2 pages"
    assert sorted(shared.properties["MountTargetAvailabilityZones"]) == ["us-east-1a", "us-east-1b"]
    assert shared.properties["BackupPolicy"] == {"Status": "ENABLED"}
    assert partial.properties["BackupPolicy"] is None, "PolicyNotFound means no automatic backups"
    assert single.properties["AvailabilityZoneName"] == "us-east-1a"
    named = {"shared": shared, "single": single, "partial": partial}
    assert verdicts("efs-file-system-regional", named) == {"shared": "PASSED", "single": "FAILED", "partial": "PASSED"}
    assert verdicts("efs-file-system-mount-targets-multi-az", named) == {
        "shared": "PASSED",
        "single": "NOT_APPLICABLE",
        "partial": "FAILED",
    }
    assert verdicts("efs-file-system-automatic-backups", named)["partial"] == "FAILED"
    assert verdicts("efs-file-system-aws-backup-recent", named) == {
        "shared": "PASSED",
        "single": "FAILED",
        "partial": "FAILED",
    }


def test_no_per_file_system_calls_unless_a_check_reads_them(aws: None, factory: Any, calls: Any) -> None:
    boto3.client("efs", region_name="us-east-1").create_file_system(CreationToken="t")
    seen = calls("efs")
    docs = collect_needing(factory, "AWS::EFS::FileSystem", frozenset({"AvailabilityZoneName"}))
    assert seen == ["DescribeFileSystems"]
    [doc] = docs.values()
    assert "BackupPolicy" not in doc.properties
