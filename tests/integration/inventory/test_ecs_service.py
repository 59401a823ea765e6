"""AWS::ECS::Service collector on moto: every cluster, DescribeServices in tens, awsvpc subnet AZs."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import verdicts


def test_services_of_every_cluster(aws: None, factory: Any, collect: Any, calls: Any) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a, b, a2 = (
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(("us-east-1a", "us-east-1b", "us-east-1a"))
    )
    # moto 5.2 raises KeyError on awsvpcConfiguration without securityGroups, so always pass one.
    group = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs", region_name="us-east-1")
    for cluster in ("web", "batch"):
        ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family="app", networkMode="awsvpc", containerDefinitions=[{"name": "app", "image": "app", "memory": 128}]
    )

    def service(cluster: str, name: str, count: int, subnets: list[str] | None = None, **extra: Any) -> None:
        if subnets:
            extra["networkConfiguration"] = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}}
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition="app", desiredCount=count, **extra)

    service("web", "api", 3, [a, b], launchType="FARGATE")
    service("web", "one-zone", 3, [a, a2], launchType="FARGATE")
    service("web", "singleton", 1, [a, b], launchType="FARGATE")
    for i in range(9):  # 12 services in "web": DescribeServices takes at most 10 per call
        service("web", f"filler-{i}", 0, [a, b], launchType="FARGATE")
    service("batch", "api", 2, launchType="EC2", placementStrategy=[{"type": "binpack", "field": "memory"}])

    # moto 5.2 drops deploymentConfiguration and placementStrategy on CreateService (DescribeServices
    # returns neither); put them back as AWS returns them, to prove the checks on collected documents.
    def add_dropped_fields(parsed: dict[str, Any], **_: Any) -> None:
        for svc in parsed.get("services", []):
            breaker = {"enable": svc["serviceName"] == "api", "rollback": svc["serviceName"] == "api"}
            svc.setdefault(
                "deploymentConfiguration",
                {"deploymentCircuitBreaker": breaker, "maximumPercent": 200, "minimumHealthyPercent": 100},
            )
            if svc["clusterArn"].endswith("/batch"):
                svc.setdefault("placementStrategy", [{"type": "binpack", "field": "memory"}])

    factory.client("ecs", "us-east-1").meta.events.register("after-call.ecs.DescribeServices", add_dropped_fields)
    seen = calls("ecs")

    docs = collect("AWS::ECS::Service")

    assert len(docs) == 13
    assert seen.count("DescribeServices") == 3, "12 services in web (2 calls) and 1 in batch"
    assert docs["web/api"].arn == "arn:aws:ecs:us-east-1:123456789012:service/web/api"
    assert sorted(docs["web/api"].properties["SubnetAvailabilityZones"]) == ["us-east-1a", "us-east-1b"]
    assert "SubnetAvailabilityZones" not in docs["batch/api"].properties
    picked = {name: docs[name] for name in ("web/api", "web/one-zone", "web/singleton", "batch/api", "web/filler-0")}
    assert verdicts("ecs-service-multi-az", picked) == {
        "web/api": "PASSED",
        "web/one-zone": "FAILED",
        "web/singleton": "NOT_APPLICABLE",
        "batch/api": "FAILED",  # binpack first
        "web/filler-0": "NOT_APPLICABLE",
    }
    assert verdicts("ecs-service-desired-count-redundant", picked) == {
        "web/api": "PASSED",
        "web/one-zone": "PASSED",
        "web/singleton": "FAILED",
        "batch/api": "PASSED",
        "web/filler-0": "NOT_APPLICABLE",
    }
    breaker = verdicts("ecs-service-deployment-circuit-breaker", picked)
    assert breaker["web/api"] == "PASSED"
    assert breaker["web/one-zone"] == "FAILED"
