"""AWS::RDS::DBCluster collector on moto: member AZs, Neptune excluded, AWS Backup recovery points."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import (
    collect_needing,
    protected,
    stub_protected_resources,
    verdicts,
)


def cluster(rds: Any, name: str, zones: list[str], **extra: Any) -> str:
    arn: str = rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine=extra.pop("Engine", "aurora-postgresql"),
        MasterUsername="admin",
        MasterUserPassword="password-for-tests",
        **extra,
    )["DBCluster"]["DBClusterArn"]
    for i, zone in enumerate(zones):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{name}-{i}",
            DBInstanceClass="db.r6g.large",
            Engine="aurora-postgresql",
            DBClusterIdentifier=name,
            AvailabilityZone=zone,
        )
    return arn


def test_member_zones_backups_and_verdicts(aws: None, factory: Any, collect: Any, calls: Any) -> None:
    rds = boto3.client("rds", region_name="us-east-1")
    spread = cluster(rds, "spread", ["us-east-1a", "us-east-1b"], DeletionProtection=True, BackupRetentionPeriod=7)
    cluster(rds, "same-zone", ["us-east-1a", "us-east-1a"])
    single = cluster(rds, "single", ["us-east-1c"])
    boto3.client("neptune", region_name="us-east-1").create_db_cluster(DBClusterIdentifier="graph", Engine="neptune")
    stubber = stub_protected_resources(
        factory,
        [
            protected(spread, 0.5, "Aurora"),
            protected(single, 9, "Aurora"),
            protected("arn:aws:dynamodb:us-east-1:123456789012:table/other", 0.1, "DynamoDB"),
        ],
    )
    seen = calls("rds")

    docs = collect("AWS::RDS::DBCluster")

    stubber.assert_no_pending_responses()  # both pages of ListProtectedResources were read
    assert sorted(docs) == ["same-zone", "single", "spread"], "Neptune is AWS::Neptune::DBCluster"
    assert seen.count("DescribeDBInstances") >= 3, "page size 2 over 5 instances needs 3 pages"
    assert sorted(docs["spread"].properties["MemberAvailabilityZones"]) == ["us-east-1a", "us-east-1b"]
    assert docs["same-zone"].properties["MemberAvailabilityZones"] == ["us-east-1a", "us-east-1a"]
    assert docs["spread"].properties["AwsBackup"]["LastBackupAgeDays"] < 1
    assert docs["single"].properties["AwsBackup"]["LastBackupAgeDays"] > 8
    assert docs["same-zone"].properties["AwsBackup"] == {"LastBackupTime": None, "LastBackupAgeDays": None}
    assert verdicts("rds-db-cluster-multi-az", docs) == {"spread": "PASSED", "same-zone": "FAILED", "single": "FAILED"}
    assert verdicts("rds-db-cluster-aws-backup-recent", docs) == {
        "spread": "PASSED",
        "same-zone": "FAILED",
        "single": "FAILED",
    }
    assert verdicts("rds-db-cluster-deletion-protection", docs)["spread"] == "PASSED"
    assert verdicts("rds-db-cluster-backup-retention", docs) == {
        "spread": "PASSED",
        "same-zone": "FAILED",
        "single": "FAILED",
    }


def test_enrichment_calls_skipped_when_no_check_reads_them(aws: None, factory: Any, calls: Any) -> None:
    cluster(boto3.client("rds", region_name="us-east-1"), "c1", ["us-east-1a"])
    rds_calls, backup_calls = calls("rds"), calls("backup")

    docs = collect_needing(factory, "AWS::RDS::DBCluster", frozenset({"DeletionProtection"}))

    assert "MemberAvailabilityZones" not in docs["c1"].properties
    assert "AwsBackup" not in docs["c1"].properties
    assert rds_calls == ["DescribeDBClusters"]
    assert backup_calls == []


def test_aws_backup_unreadable_is_a_gap_not_a_lost_type(aws: None, factory: Any) -> None:
    """moto 5.2 answers ListProtectedResources with 404 "Not yet implemented": the unit still yields
    every cluster (other checks are evaluated), without AwsBackup, and the run reports a gap."""
    from relaudit.inventory.base import IncompleteUnitError
    from relaudit.run import Unit, collect_unit

    cluster(boto3.client("rds", region_name="us-east-1"), "c1", ["us-east-1a", "us-east-1b"])
    unit = Unit("123456789012", "us-east-1", "AWS::RDS::DBCluster")

    try:
        collect_unit(unit, factory, "aws", needs=frozenset({"AwsBackup", "MemberAvailabilityZones"}))
    except IncompleteUnitError as exc:
        incomplete = exc
    else:
        raise AssertionError("expected IncompleteUnitError")

    assert incomplete.field_name == "AwsBackup"
    assert "ListProtectedResources" in str(incomplete)
    [doc] = incomplete.documents
    assert "AwsBackup" not in doc.properties
    assert len(doc.properties["MemberAvailabilityZones"]) == 2
    assert verdicts("rds-db-cluster-aws-backup-recent", {"c1": doc}) == {"c1": "NOT_APPLICABLE"}
    assert verdicts("rds-db-cluster-multi-az", {"c1": doc}) == {"c1": "PASSED"}
