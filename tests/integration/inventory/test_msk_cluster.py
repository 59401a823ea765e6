"""AWS::MSK::Cluster collector on moto: broker zones from client subnets, serverless out of scope."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import collect_needing, verdicts


def test_broker_zones_and_verdicts(aws: None, factory: Any, collect: Any) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a, b, c = (
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("abc")
    )
    kafka = boto3.client("kafka", region_name="us-east-1")

    def provisioned(name: str, subnets: list[str], monitoring: str = "DEFAULT") -> None:
        kafka.create_cluster_v2(
            ClusterName=name,
            Provisioned={
                "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": subnets},
                "KafkaVersion": "3.5.1",
                "NumberOfBrokerNodes": len(subnets),
                "EnhancedMonitoring": monitoring,
            },
        )

    provisioned("three-az", [a, b, c], "PER_BROKER")
    provisioned("two-az", [a, b])
    kafka.create_cluster_v2(ClusterName="serverless", Serverless={"VpcConfigs": [{"SubnetIds": [a, b]}]})

    # moto 5.2 drops EnhancedMonitoring on CreateClusterV2 (always DEFAULT): put it back as AWS returns it.
    def add_monitoring(parsed: dict[str, Any], **_: Any) -> None:
        for cluster in parsed.get("ClusterInfoList", []):
            if cluster["ClusterName"] == "three-az":
                cluster["Provisioned"]["EnhancedMonitoring"] = "PER_BROKER"

    factory.client("kafka", "us-east-1").meta.events.register("after-call.kafka.ListClustersV2", add_monitoring)

    docs = collect("AWS::MSK::Cluster")

    assert sorted(docs["three-az"].properties["BrokerAvailabilityZones"]) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert "BrokerAvailabilityZones" not in docs["serverless"].properties
    assert verdicts("msk-cluster-multi-az", docs) == {
        "three-az": "PASSED",
        "two-az": "FAILED",
        "serverless": "NOT_APPLICABLE",
    }
    assert verdicts("msk-cluster-enhanced-monitoring", docs) == {
        "three-az": "PASSED",
        "two-az": "FAILED",
        "serverless": "NOT_APPLICABLE",
    }


def test_no_subnet_lookup_unless_a_check_reads_zones(aws: None, factory: Any, calls: Any) -> None:
    seen = calls("ec2")
    collect_needing(factory, "AWS::MSK::Cluster", frozenset({"EnhancedMonitoring"}))
    assert seen == []
