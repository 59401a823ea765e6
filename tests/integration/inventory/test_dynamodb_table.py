"""AWS::DynamoDB::Table collector on moto: PITR, deletion protection, auto scaling, AWS Backup."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import protected, stub_protected_resources, verdicts

KEY = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
}


def test_enrichments_across_pages(aws: None, factory: Any, collect: Any, calls: Any) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    # Names of 3+ characters: botocore rejects shorter ones as ExclusiveStartTableName when paginating.
    orders = dynamodb.create_table(
        TableName="orders", BillingMode="PAY_PER_REQUEST", DeletionProtectionEnabled=True, **KEY
    )["TableDescription"]["TableArn"]
    dynamodb.update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    for name in ("scaled", "reads-only", "fixed"):
        dynamodb.create_table(TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput=throughput, **KEY)
    autoscaling = boto3.client("application-autoscaling", region_name="us-east-1")
    targets = [("scaled", "Read"), ("scaled", "Write"), ("reads-only", "Read")]
    for table, kind in targets:
        autoscaling.register_scalable_target(
            ServiceNamespace="dynamodb",
            ResourceId=f"table/{table}",
            ScalableDimension=f"dynamodb:table:{kind}CapacityUnits",
            MinCapacity=5,
            MaxCapacity=50,
        )
    autoscaling.register_scalable_target(  # an index target must not count for its table
        ServiceNamespace="dynamodb",
        ResourceId="table/fixed/index/by-date",
        ScalableDimension="dynamodb:index:WriteCapacityUnits",
        MinCapacity=5,
        MaxCapacity=50,
    )
    stubber = stub_protected_resources(factory, [protected(orders, 1.5, "DynamoDB")])
    seen = calls("dynamodb")

    docs = collect("AWS::DynamoDB::Table")

    stubber.assert_no_pending_responses()
    assert sorted(docs) == ["fixed", "orders", "reads-only", "scaled"]
    assert seen.count("ListTables") >= 2, "page size 2 over 4 tables needs 2 pages"
    assert docs["orders"].properties["PointInTimeRecoveryStatus"] == "ENABLED"
    assert docs["fixed"].properties["PointInTimeRecoveryStatus"] == "DISABLED"
    assert docs["scaled"].properties["ScalableDimensions"] == [
        "dynamodb:table:ReadCapacityUnits",
        "dynamodb:table:WriteCapacityUnits",
    ]
    assert docs["fixed"].properties["ScalableDimensions"] == []
    assert verdicts("dynamodb-table-capacity-autoscaling", docs) == {
        "orders": "PASSED",
        "scaled": "PASSED",
        "reads-only": "FAILED",
        "fixed": "FAILED",
    }
    for check in (
        "dynamodb-table-pitr-enabled",
        "dynamodb-table-deletion-protection",
        "dynamodb-table-aws-backup-recent",
    ):
        result = verdicts(check, docs)
        assert result["orders"] == "PASSED", check
        assert result["fixed"] == "FAILED", check


def test_table_deleted_between_list_and_describe_is_skipped(aws: None, factory: Any, collect: Any) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for name in ("kept", "gone"):
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **KEY)

    def delete_after_listing(**_: Any) -> None:
        boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName="gone")

    factory.client("dynamodb", "us-east-1").meta.events.register_first(
        "after-call.dynamodb.ListTables", delete_after_listing
    )
    stubber = stub_protected_resources(factory, [], page_size=None)

    docs = collect("AWS::DynamoDB::Table", page_size=None)

    assert sorted(docs) == ["kept"]
    assert docs["kept"].properties["AwsBackup"] == {"LastBackupTime": None, "LastBackupAgeDays": None}
    stubber.assert_no_pending_responses()


def test_global_secondary_index_capacity_is_judged(aws: None, collect: Any) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    index = {
        "KeySchema": KEY["KeySchema"],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
        "ProvisionedThroughput": throughput,
    }
    for name in ("index-fixed", "index-scaled"):
        dynamodb.create_table(
            TableName=name,
            BillingMode="PROVISIONED",
            ProvisionedThroughput=throughput,
            GlobalSecondaryIndexes=[{"IndexName": "by-day", **index}],
            **KEY,
        )
    autoscaling = boto3.client("application-autoscaling", region_name="us-east-1")
    targets = [(f"table/{name}", "table") for name in ("index-fixed", "index-scaled")]
    targets.append(("table/index-scaled/index/by-day", "index"))
    for resource, kind in targets:
        for capacity in ("Read", "Write"):
            autoscaling.register_scalable_target(
                ServiceNamespace="dynamodb",
                ResourceId=resource,
                ScalableDimension=f"dynamodb:{kind}:{capacity}CapacityUnits",
                MinCapacity=5,
                MaxCapacity=50,
            )

    # One page: moto 5.2's DescribeScalableTargets repeats its NextToken past four targets.
    docs = collect("AWS::DynamoDB::Table", page_size=None)

    assert docs["index-fixed"].properties["IndexesWithoutAutoScaling"] == ["by-day"]
    assert docs["index-scaled"].properties["IndexesWithoutAutoScaling"] == []
    assert verdicts("dynamodb-table-capacity-autoscaling", docs) == {"index-fixed": "FAILED", "index-scaled": "PASSED"}
