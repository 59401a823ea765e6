"""AWS::RDS::DBInstance collector on moto."""

from __future__ import annotations

from typing import Any

import boto3


def make(rds: Any, name: str, **extra: Any) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        Engine=extra.pop("Engine", "postgres"),
        MasterUsername="admin",
        MasterUserPassword="password-for-tests",
        AllocatedStorage=20,
        **extra,
    )


def test_collects_every_instance_across_pages(aws: None, collect: Any, calls: Any) -> None:
    rds = boto3.client("rds", region_name="us-east-1")
    for i in range(5):
        make(rds, f"db-{i}", MultiAZ=i % 2 == 0)
    seen = calls("rds")
    docs = collect("AWS::RDS::DBInstance")
    assert sorted(docs) == [f"db-{i}" for i in range(5)]
    assert seen.count("DescribeDBInstances") >= 3, "page size 2 over 5 instances needs 3 pages"
    assert docs["db-0"].properties["MultiAZ"] is True
    assert docs["db-1"].properties["MultiAZ"] is False
    assert docs["db-0"].arn == "arn:aws:rds:us-east-1:123456789012:db:db-0"
    assert isinstance(docs["db-0"].properties["InstanceCreateTime"], str), "datetimes become ISO strings"


def test_aurora_member_carries_cluster_identifier(aws: None, collect: Any) -> None:
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_cluster(
        DBClusterIdentifier="c1", Engine="aurora-postgresql", MasterUsername="admin", MasterUserPassword="password-x1"
    )
    rds.create_db_instance(
        DBInstanceIdentifier="c1-a",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
        DBClusterIdentifier="c1",
    )
    docs = collect("AWS::RDS::DBInstance")
    assert docs["c1-a"].properties["DBClusterIdentifier"] == "c1"


def test_regions_are_separate(aws: None, collect: Any) -> None:
    make(boto3.client("rds", region_name="eu-west-1"), "only-in-eu")
    assert collect("AWS::RDS::DBInstance", region="us-east-1") == {}
    assert list(collect("AWS::RDS::DBInstance", region="eu-west-1")) == ["only-in-eu"]


def test_aws_backup_recovery_points_and_verdicts(aws: None, factory: Any, collect: Any) -> None:
    from tests.integration.inventory.catalog_support import protected, stub_protected_resources, verdicts

    rds = boto3.client("rds", region_name="us-east-1")
    make(rds, "kept", BackupRetentionPeriod=7, DeletionProtection=True)
    make(rds, "unkept", BackupRetentionPeriod=0)
    stubber = stub_protected_resources(factory, [protected("arn:aws:rds:us-east-1:123456789012:db:kept", 1, "RDS")])

    docs = collect("AWS::RDS::DBInstance")

    stubber.assert_no_pending_responses()
    assert docs["kept"].properties["AwsBackup"]["LastBackupAgeDays"] >= 1
    assert docs["unkept"].properties["AwsBackup"]["LastBackupTime"] is None
    assert verdicts("rds-db-instance-aws-backup-recent", docs) == {"kept": "PASSED", "unkept": "FAILED"}
    assert verdicts("rds-db-instance-backup-retention", docs) == {"kept": "PASSED", "unkept": "FAILED"}
    assert verdicts("rds-db-instance-deletion-protection", docs) == {"kept": "PASSED", "unkept": "FAILED"}
