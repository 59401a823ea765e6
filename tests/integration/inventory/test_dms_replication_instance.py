"""AWS::DMS::ReplicationInstance collector on moto."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import verdicts


def test_instances_and_multi_az(aws: None, collect: Any) -> None:
    dms = boto3.client("dms", region_name="us-east-1")
    for i in range(3):
        dms.create_replication_instance(
            ReplicationInstanceIdentifier=f"ri-{i}", ReplicationInstanceClass="dms.t3.micro", MultiAZ=i == 0
        )

    # moto 5.2 returns every instance in one page whatever MaxRecords says; the paginator is still used.
    docs = collect("AWS::DMS::ReplicationInstance")

    assert sorted(docs) == ["ri-0", "ri-1", "ri-2"]
    assert docs["ri-0"].arn == "arn:aws:dms:us-east-1:123456789012:rep:ri-0"
    assert verdicts("dms-replication-instance-multi-az", docs) == {"ri-0": "PASSED", "ri-1": "FAILED", "ri-2": "FAILED"}
