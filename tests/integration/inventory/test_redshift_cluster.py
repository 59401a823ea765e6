"""AWS::Redshift::Cluster collector on moto (MultiAZ restored with an after-call hook)."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import verdicts


def make(redshift: Any, name: str, **extra: Any) -> None:
    redshift.create_cluster(
        ClusterIdentifier=name,
        NodeType=extra.pop("NodeType", "ra3.xlplus"),
        MasterUsername="admin",
        MasterUserPassword="Password1",
        ClusterType="multi-node",
        NumberOfNodes=2,
        **extra,
    )


def test_clusters_with_built_arns_and_verdicts(aws: None, factory: Any, collect: Any) -> None:
    redshift = boto3.client("redshift", region_name="us-east-1")
    make(redshift, "ha", MultiAZ=True, AutomatedSnapshotRetentionPeriod=7)
    make(redshift, "single", MultiAZ=False, AutomatedSnapshotRetentionPeriod=1)
    make(redshift, "legacy", NodeType="dc2.large")

    # moto 5.2 accepts MultiAZ on CreateCluster but never returns it; AWS returns "Enabled" or
    # "Disabled". Put it back the way AWS sends it, so the check is proved on the collected document.
    def add_multi_az(parsed: dict[str, Any], **_: Any) -> None:
        for cluster in parsed.get("Clusters", []):
            cluster.setdefault("MultiAZ", "Enabled" if cluster["ClusterIdentifier"] == "ha" else "Disabled")

    factory.client("redshift", "us-east-1").meta.events.register("after-call.redshift.DescribeClusters", add_multi_az)

    docs = collect("AWS::Redshift::Cluster")

    assert docs["ha"].arn == "arn:aws:redshift:us-east-1:123456789012:cluster:ha"
    assert verdicts("redshift-cluster-multi-az", docs) == {
        "ha": "PASSED",
        "single": "FAILED",
        "legacy": "NOT_APPLICABLE",
    }
    assert verdicts("redshift-cluster-automated-snapshot-retention", docs) == {
        "ha": "PASSED",
        "single": "FAILED",
        "legacy": "FAILED",  # the default retention, in AWS and moto, is 1 day
    }
