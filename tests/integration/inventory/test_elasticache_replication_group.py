"""AWS::ElastiCache::ReplicationGroup collector on moto."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import verdicts


def test_groups_across_pages_with_member_zones(aws: None, collect: Any, calls: Any) -> None:
    elasticache = boto3.client("elasticache", region_name="us-east-1")
    # moto 5.2 ignores NumCacheClusters (always one member); ReplicasPerNodeGroup adds a replica.
    elasticache.create_replication_group(
        ReplicationGroupId="ha",
        ReplicationGroupDescription="ha",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        AutomaticFailoverEnabled=True,
        MultiAZEnabled=True,
        ReplicasPerNodeGroup=1,
        SnapshotRetentionLimit=7,
    )
    for i in range(4):
        elasticache.create_replication_group(
            ReplicationGroupId=f"plain-{i}",
            ReplicationGroupDescription="d",
            Engine="redis",
            CacheNodeType="cache.t3.micro",
        )
    seen = calls("elasticache")

    docs = collect("AWS::ElastiCache::ReplicationGroup")

    assert len(docs) == 5
    assert seen.count("DescribeReplicationGroups") >= 3, "page size 2 over 5 groups needs 3 pages"
    assert docs["ha"].arn == "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:ha"
    assert sorted(docs["ha"].properties["MemberAvailabilityZones"]) == ["us-east-1a", "us-east-1b"]
    plain = {"plain-0": docs["plain-0"]}
    for check in (
        "elasticache-replication-group-automatic-failover",
        "elasticache-replication-group-multi-az",
        "elasticache-replication-group-backup-retention",
    ):
        assert verdicts(check, {"ha": docs["ha"]}) == {"ha": "PASSED"}, check
        assert verdicts(check, plain) == {"plain-0": "FAILED"}, check
