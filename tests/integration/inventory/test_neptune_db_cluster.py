"""AWS::Neptune::DBCluster collector on moto: Neptune clusters only, with member AZs."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import verdicts


def test_neptune_clusters_only_with_member_zones(aws: None, collect: Any) -> None:
    neptune = boto3.client("neptune", region_name="us-east-1")
    neptune.create_db_cluster(DBClusterIdentifier="graph", Engine="neptune", DeletionProtection=True)
    neptune.create_db_cluster(DBClusterIdentifier="lonely", Engine="neptune", BackupRetentionPeriod=7)
    for name, cluster, zone in (
        ("g-0", "graph", "us-east-1a"),
        ("g-1", "graph", "us-east-1b"),
        ("l-0", "lonely", "us-east-1a"),
    ):
        neptune.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.r5.large",
            Engine="neptune",
            DBClusterIdentifier=cluster,
            AvailabilityZone=zone,
        )
    boto3.client("rds", region_name="us-east-1").create_db_cluster(
        DBClusterIdentifier="aurora", Engine="aurora-mysql", MasterUsername="admin", MasterUserPassword="password-x1"
    )

    docs = collect("AWS::Neptune::DBCluster")

    assert sorted(docs) == ["graph", "lonely"], "the engine filter leaves Aurora to AWS::RDS::DBCluster"
    assert sorted(docs["graph"].properties["MemberAvailabilityZones"]) == ["us-east-1a", "us-east-1b"]
    assert verdicts("neptune-db-cluster-multi-az", docs) == {"graph": "PASSED", "lonely": "FAILED"}
    assert verdicts("neptune-db-cluster-deletion-protection", docs) == {"graph": "PASSED", "lonely": "FAILED"}
    assert verdicts("neptune-db-cluster-backup-retention", docs) == {"graph": "FAILED", "lonely": "PASSED"}
