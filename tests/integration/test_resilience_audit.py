"""A whole audit of a seeded account's data stores, networks, containers and backups on moto.

One region, the checks of those resource types only. Every resource is either compliant or has
the defects named in EXPECTED: each defect must be found (no miss), and every other finding must
pass or be out of scope (no false alarm). Aurora and Neptune members must never be judged as
instances, and the VPC check gives one finding per VPC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.models.request import AuditRequest
from relaudit.run import run

from .inventory.catalog_support import build_vpc
from .inventory.seed_support import RESILIENT_CLUSTER, create_broker

REGION = "us-east-1"
CATALOG = load_catalog(known_types=COLLECTORS)
TYPES = {
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::Neptune::DBCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::EFS::FileSystem",
    "AWS::OpenSearchService::Domain",
    "AWS::Redshift::Cluster",
    "AWS::DynamoDB::Table",
    "AWS::DMS::ReplicationInstance",
    "AWS::MSK::Cluster",
    "AWS::AmazonMQ::Broker",
    "AWS::ECS::Service",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCEndpoint",
    "AWS::EC2::Volume",
    "AWS::ElasticLoadBalancing::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::AutoScaling::AutoScalingGroup",
}
CHECKS = sorted(c.id for c in CATALOG.checks.values() if c.definition.resource_type in TYPES)
BACKED_UP_TYPES = {
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::DynamoDB::Table",
    "AWS::EFS::FileSystem",
    "AWS::EC2::Volume",
}

# Resource name -> the statuses that are not PASSED. Every other check of its type must pass.
EXPECTED: dict[str, dict[str, str]] = {
    "db-good": {},
    "db-single-az": {"rds-db-instance-multi-az": "FAILED"},
    "db-no-backups": {"rds-db-instance-backup-retention": "FAILED"},
    "db-unprotected": {"rds-db-instance-deletion-protection": "FAILED"},
    "db-not-backed-up": {"rds-db-instance-aws-backup-recent": "FAILED"},
    "aurora-good": {},
    "aurora-one-zone": {"rds-db-cluster-multi-az": "FAILED"},
    "aurora-short-retention": {"rds-db-cluster-backup-retention": "FAILED"},
    "aurora-unprotected": {"rds-db-cluster-deletion-protection": "FAILED"},
    "aurora-not-backed-up": {"rds-db-cluster-aws-backup-recent": "FAILED"},
    "graph-good": {},
    "graph-single": {"neptune-db-cluster-multi-az": "FAILED"},
    "cache-good": {},
    "cache-single-node": {
        "elasticache-replication-group-automatic-failover": "FAILED",
        "elasticache-replication-group-multi-az": "FAILED",
    },
    "cache-no-backups": {"elasticache-replication-group-backup-retention": "FAILED"},
    "efs-good": {},
    "efs-one-zone": {"efs-file-system-regional": "FAILED", "efs-file-system-mount-targets-multi-az": "NOT_APPLICABLE"},
    "efs-one-mount-target": {"efs-file-system-mount-targets-multi-az": "FAILED"},
    "efs-no-backups": {"efs-file-system-automatic-backups": "FAILED", "efs-file-system-aws-backup-recent": "FAILED"},
    "search-good": {},
    "search-small": {
        "opensearch-domain-data-nodes-fault-tolerant": "FAILED",
        "opensearch-domain-dedicated-master-nodes": "FAILED",
    },
    "dw-good": {},
    "dw-single-az": {"redshift-cluster-multi-az": "FAILED"},
    "dw-dc2": {"redshift-cluster-multi-az": "NOT_APPLICABLE"},
    "dw-no-snapshots": {"redshift-cluster-automated-snapshot-retention": "FAILED"},
    "orders-good": {},
    "orders-no-pitr": {"dynamodb-table-pitr-enabled": "FAILED"},
    "orders-unprotected": {"dynamodb-table-deletion-protection": "FAILED"},
    "orders-fixed-capacity": {"dynamodb-table-capacity-autoscaling": "FAILED"},
    "orders-not-backed-up": {"dynamodb-table-aws-backup-recent": "FAILED"},
    "dms-good": {},
    "dms-single-az": {"dms-replication-instance-multi-az": "FAILED"},
    "kafka-good": {},
    "kafka-two-az": {"msk-cluster-multi-az": "FAILED"},
    "kafka-serverless": {"msk-cluster-multi-az": "NOT_APPLICABLE", "msk-cluster-enhanced-monitoring": "NOT_APPLICABLE"},
    "mq-active-standby": {"mq-broker-rabbitmq-cluster-multi-az": "NOT_APPLICABLE"},
    "mq-single": {
        "mq-broker-activemq-active-standby": "FAILED",
        "mq-broker-rabbitmq-cluster-multi-az": "NOT_APPLICABLE",
    },
    "rabbit-single": {
        "mq-broker-rabbitmq-cluster-multi-az": "FAILED",
        "mq-broker-activemq-active-standby": "NOT_APPLICABLE",
    },
    "prod/web": {},
    "prod/web-one-zone": {"ecs-service-multi-az": "FAILED"},
    "prod/web-singleton": {"ecs-service-desired-count-redundant": "FAILED", "ecs-service-multi-az": "NOT_APPLICABLE"},
    "prod/web-no-breaker": {"ecs-service-deployment-circuit-breaker": "FAILED"},
    "net-good": {},
    "net-shared-nat": {"ec2-vpc-nat-gateway-per-az": "FAILED"},
    "vpce-good": {},
    "vpce-one-zone": {"ec2-vpc-endpoint-multi-az": "FAILED"},
    "vol-good": {},
    "vol-bare": {"ec2-volume-aws-backup-recent": "FAILED"},
    "clb-good": {},
    "clb-one-zone": {"elb-load-balancer-multi-az": "FAILED"},
    "clb-defaults": {"elb-load-balancer-cross-zone": "FAILED", "elb-load-balancer-connection-draining": "FAILED"},
    "alb-good": {"elbv2-load-balancer-cross-zone": "NOT_APPLICABLE"},
    "alb-unprotected": {
        "elbv2-load-balancer-deletion-protection": "FAILED",
        "elbv2-load-balancer-cross-zone": "NOT_APPLICABLE",
    },
    "nlb-one-zone": {"elbv2-load-balancer-multi-az": "FAILED"},
    "nlb-no-cross-zone": {"elbv2-load-balancer-cross-zone": "FAILED"},
    "asg-good": {},
    "asg-ec2-health-check": {"autoscaling-group-elb-health-check": "FAILED"},
    "asg-one-zone": {"autoscaling-group-multi-az": "FAILED", "autoscaling-group-elb-health-check": "NOT_APPLICABLE"},
}


@dataclass
class Seeded:
    """What the seed made: ARNs AWS Backup should report, and names for id-named resources."""

    backed_up: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # resource id -> EXPECTED name


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def seed_databases(seeded: Seeded) -> None:
    rds = client("rds")
    good = {"MultiAZ": True, "BackupRetentionPeriod": 7, "DeletionProtection": True}
    for name, defect in (
        ("db-good", {}),
        ("db-single-az", {"MultiAZ": False}),
        ("db-no-backups", {"BackupRetentionPeriod": 0}),
        ("db-unprotected", {"DeletionProtection": False}),
        ("db-not-backed-up", {}),
    ):
        arn = rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="admin",
            MasterUserPassword="password-for-tests",
            AllocatedStorage=20,
            **{**good, **defect},
        )["DBInstance"]["DBInstanceArn"]
        if name != "db-not-backed-up":
            seeded.backed_up.append(arn)
    cluster_good = {"BackupRetentionPeriod": 7, "DeletionProtection": True}
    for name, zones, defect in (
        ("aurora-good", "ab", {}),
        ("aurora-one-zone", "aa", {}),
        ("aurora-short-retention", "ab", {"BackupRetentionPeriod": 1}),
        ("aurora-unprotected", "ab", {"DeletionProtection": False}),
        ("aurora-not-backed-up", "ab", {}),
    ):
        arn = rds.create_db_cluster(
            DBClusterIdentifier=name,
            Engine="aurora-postgresql",
            MasterUsername="admin",
            MasterUserPassword="password-for-tests",
            **{**cluster_good, **defect},
        )["DBCluster"]["DBClusterArn"]
        for i, zone in enumerate(zones):  # members: single-AZ, no deletion protection, 1-day retention
            rds.create_db_instance(
                DBInstanceIdentifier=f"{name}-{i}",
                DBInstanceClass="db.r6g.large",
                Engine="aurora-postgresql",
                DBClusterIdentifier=name,
                AvailabilityZone=f"{REGION}{zone}",
            )
        if name != "aurora-not-backed-up":
            seeded.backed_up.append(arn)
    neptune = client("neptune")
    for name, zones in (("graph-good", "ab"), ("graph-single", "a")):
        neptune.create_db_cluster(
            DBClusterIdentifier=name, Engine="neptune", BackupRetentionPeriod=7, DeletionProtection=True
        )
        for i, zone in enumerate(zones):
            neptune.create_db_instance(
                DBInstanceIdentifier=f"{name}-{i}",
                DBInstanceClass="db.r5.large",
                Engine="neptune",
                DBClusterIdentifier=name,
                AvailabilityZone=f"{REGION}{zone}",
            )


def seed_caches_and_analytics() -> None:
    elasticache = client("elasticache")
    for name, settings in (
        ("cache-good", {"AutomaticFailoverEnabled": True, "MultiAZEnabled": True, "SnapshotRetentionLimit": 7}),
        ("cache-single-node", {"SnapshotRetentionLimit": 7}),
        ("cache-no-backups", {"AutomaticFailoverEnabled": True, "MultiAZEnabled": True}),
    ):
        replicas = {"ReplicasPerNodeGroup": 1} if settings.get("MultiAZEnabled") else {}
        elasticache.create_replication_group(
            ReplicationGroupId=name,
            ReplicationGroupDescription=name,
            Engine="redis",
            CacheNodeType="cache.t3.micro",
            **settings,
            **replicas,
        )
    opensearch = client("opensearch")
    opensearch.create_domain(DomainName="search-good", ClusterConfig=RESILIENT_CLUSTER)
    opensearch.create_domain(DomainName="search-small")
    redshift = client("redshift")
    for name, node_type, retention in (
        ("dw-good", "ra3.xlplus", 7),
        ("dw-single-az", "ra3.xlplus", 7),
        ("dw-dc2", "dc2.large", 7),
        ("dw-no-snapshots", "ra3.xlplus", 0),
    ):
        redshift.create_cluster(
            ClusterIdentifier=name,
            NodeType=node_type,
            MasterUsername="admin",
            MasterUserPassword="Password1",
            ClusterType="multi-node",
            NumberOfNodes=2,
            AutomatedSnapshotRetentionPeriod=retention,
        )
    dms = client("dms")
    for name, multi_az in (("dms-good", True), ("dms-single-az", False)):
        dms.create_replication_instance(
            ReplicationInstanceIdentifier=name, ReplicationInstanceClass="dms.t3.medium", MultiAZ=multi_az
        )
    mq = client("mq")
    for name, engine, mode in (
        ("mq-active-standby", "ACTIVEMQ", "ACTIVE_STANDBY_MULTI_AZ"),
        ("mq-single", "ACTIVEMQ", "SINGLE_INSTANCE"),
        ("rabbit-single", "RABBITMQ", "SINGLE_INSTANCE"),
    ):
        create_broker(mq, name, engine, mode)


def seed_tables(seeded: Seeded) -> None:
    dynamodb = client("dynamodb")
    key = {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    }
    for name in (
        "orders-good",
        "orders-no-pitr",
        "orders-unprotected",
        "orders-fixed-capacity",
        "orders-not-backed-up",
    ):
        capacity: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST"}
        if name == "orders-fixed-capacity":
            throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            capacity = {"BillingMode": "PROVISIONED", "ProvisionedThroughput": throughput}
        arn = dynamodb.create_table(
            TableName=name, DeletionProtectionEnabled=name != "orders-unprotected", **capacity, **key
        )["TableDescription"]["TableArn"]
        if name != "orders-no-pitr":
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        if name != "orders-not-backed-up":
            seeded.backed_up.append(arn)


def seed_network_and_compute(seeded: Seeded) -> None:
    ec2 = client("ec2")
    good = build_vpc(ec2, "net-good", "10.1.0.0/16", nat_per_zone=True)
    build_vpc(ec2, "net-shared-nat", "10.2.0.0/16", nat_per_zone=False)
    a, b = good.private["us-east-1a"], good.private["us-east-1b"]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=good.vpc_id)["GroupId"]
    for name, subnets in (("vpce-good", [a, b]), ("vpce-one-zone", [a])):
        endpoint = ec2.create_vpc_endpoint(
            VpcId=good.vpc_id,
            ServiceName=f"com.amazonaws.{REGION}.{name}",
            VpcEndpointType="Interface",
            SubnetIds=subnets,
        )["VpcEndpoint"]["VpcEndpointId"]
        seeded.names[endpoint] = name
    for name in ("vol-good", "vol-bare"):
        volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=10)["VolumeId"]
        seeded.names[volume] = name
        if name == "vol-good":
            seeded.backed_up.append(f"arn:aws:ec2:{REGION}:123456789012:volume/{volume}")

    efs = client("efs")
    for name, one_zone, targets, backup in (
        ("efs-good", False, [a, b], True),
        ("efs-one-zone", True, [a], True),
        ("efs-one-mount-target", False, [a], True),
        ("efs-no-backups", False, [a, b], False),
    ):
        zone = {"AvailabilityZoneName": f"{REGION}a"} if one_zone else {}
        file_system = efs.create_file_system(
            CreationToken=name, Backup=backup, Tags=[{"Key": "Name", "Value": name}], **zone
        )
        for subnet in targets:
            efs.create_mount_target(FileSystemId=file_system["FileSystemId"], SubnetId=subnet)
        if backup:
            seeded.backed_up.append(file_system["FileSystemArn"])

    c = ec2.create_subnet(VpcId=good.vpc_id, CidrBlock="10.1.12.0/24", AvailabilityZone=f"{REGION}c")["Subnet"]
    kafka = client("kafka")
    for name, subnets in (("kafka-good", [a, b, c["SubnetId"]]), ("kafka-two-az", [a, b])):
        kafka.create_cluster_v2(
            ClusterName=name,
            Provisioned={
                "BrokerNodeGroupInfo": {"InstanceType": "kafka.m5.large", "ClientSubnets": subnets},
                "KafkaVersion": "3.5.1",
                "NumberOfBrokerNodes": 3 if len(subnets) == 3 else 2,
                "EnhancedMonitoring": "PER_BROKER",
            },
        )
    kafka.create_cluster_v2(ClusterName="kafka-serverless", Serverless={"VpcConfigs": [{"SubnetIds": [a, b]}]})

    ecs = client("ecs")
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(
        family="web", networkMode="awsvpc", containerDefinitions=[{"name": "web", "image": "web", "memory": 128}]
    )
    for name, subnets, count in (
        ("web", [a, b], 2),
        ("web-one-zone", [a], 2),
        ("web-singleton", [a, b], 1),
        ("web-no-breaker", [a, b], 2),
    ):
        ecs.create_service(
            cluster="prod",
            serviceName=name,
            taskDefinition="web",
            desiredCount=count,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}},
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        )
    seed_load_balancers(good.vpc_id, good.public["us-east-1a"], good.public["us-east-1b"])


def seed_load_balancers(vpc: str, a: str, b: str) -> None:
    elb = client("elb")
    listeners = [{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}]
    tuned = {"CrossZoneLoadBalancing": {"Enabled": True}, "ConnectionDraining": {"Enabled": True, "Timeout": 300}}
    for name, zones, attributes in (
        ("clb-good", ["a", "b"], tuned),
        ("clb-one-zone", ["a"], tuned),
        ("clb-defaults", ["a", "b"], None),
    ):
        elb.create_load_balancer(
            LoadBalancerName=name, Listeners=listeners, AvailabilityZones=[f"{REGION}{z}" for z in zones]
        )
        if attributes:
            elb.modify_load_balancer_attributes(LoadBalancerName=name, LoadBalancerAttributes=attributes)
    elbv2 = client("elbv2")
    for name, kind, subnets, attributes in (
        ("alb-good", "application", [a, b], {"deletion_protection.enabled": "true"}),
        ("alb-unprotected", "application", [a, b], {}),
        (
            "nlb-one-zone",
            "network",
            [a],
            {"deletion_protection.enabled": "true", "load_balancing.cross_zone.enabled": "true"},
        ),
        ("nlb-no-cross-zone", "network", [a, b], {"deletion_protection.enabled": "true"}),
    ):
        arn = elbv2.create_load_balancer(Name=name, Subnets=subnets, Type=kind)["LoadBalancers"][0]["LoadBalancerArn"]
        if attributes:
            elbv2.modify_load_balancer_attributes(
                LoadBalancerArn=arn, Attributes=[{"Key": k, "Value": v} for k, v in attributes.items()]
            )
    target_group = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    client("ec2").create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}
    )
    autoscaling = client("autoscaling")
    for name, subnets, groups, health in (
        ("asg-good", [a, b], [target_group["TargetGroupArn"]], "ELB"),
        ("asg-ec2-health-check", [a, b], [target_group["TargetGroupArn"]], "EC2"),
        ("asg-one-zone", [a], [], "EC2"),
    ):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": "web-lt"},
            MinSize=0,
            MaxSize=2,
            VPCZoneIdentifier=",".join(subnets),
            TargetGroupARNs=groups,
            HealthCheckType=health,
        )


def restore_moto_gaps(factory: Any) -> None:
    """Put back what moto 5.2 drops, the way AWS returns it (see checks/README.md, Moto gaps)."""

    def ecs_services(parsed: dict[str, Any], **_: Any) -> None:
        for service in parsed.get("services", []):
            breaker = service["serviceName"] != "web-no-breaker"
            service.setdefault(
                "deploymentConfiguration",
                {"deploymentCircuitBreaker": {"enable": breaker, "rollback": breaker}, "minimumHealthyPercent": 100},
            )

    def redshift_clusters(parsed: dict[str, Any], **_: Any) -> None:
        for cluster in parsed.get("Clusters", []):
            cluster.setdefault("MultiAZ", "Disabled" if cluster["ClusterIdentifier"] == "dw-single-az" else "Enabled")

    def msk_clusters(parsed: dict[str, Any], **_: Any) -> None:
        for cluster in parsed.get("ClusterInfoList", []):
            if "Provisioned" in cluster:
                cluster["Provisioned"]["EnhancedMonitoring"] = "PER_BROKER"

    for service, operation, handler in (
        ("ecs", "DescribeServices", ecs_services),
        ("redshift", "DescribeClusters", redshift_clusters),
        ("kafka", "ListClustersV2", msk_clusters),
    ):
        factory.client(service, REGION).meta.events.register(f"after-call.{service}.{operation}", handler)


def answer_protected_resources(factory: Any, arns: list[str]) -> None:
    """backup:ListProtectedResources is not implemented in moto 5.2: answer it with ``arns``."""
    when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=12)
    parsed = {"Results": [{"ResourceArn": arn, "LastBackupTime": when} for arn in arns]}

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://backup.invalid", 200, {}, None), parsed

    factory.client("backup", REGION).meta.events.register_first("before-call.backup.ListProtectedResources", handler)


@pytest.fixture
def seeded(aws: None, factory: Any) -> Seeded:
    seeded = Seeded()
    seed_databases(seeded)
    seed_caches_and_analytics()
    seed_tables(seeded)
    seed_network_and_compute(seeded)
    restore_moto_gaps(factory)
    return seeded


def audit(factory: Any, seeded: Seeded) -> tuple[Any, dict[tuple[str, str], str]]:
    result = run(AuditRequest(regions=[REGION], checks=CHECKS, max_workers=2), CATALOG, factory)
    found = {(seeded.names.get(f.resource_name, f.resource_name), f.check_id): f.status.value for f in result.findings}
    return result, found


def test_each_defect_found_and_nothing_else(seeded: Seeded, factory: Any) -> None:
    answer_protected_resources(factory, seeded.backed_up)

    result, found = audit(factory, seeded)

    assert result.coverage_gaps == []
    checks_by_type = {t: {c.id for c in CATALOG.checks.values() if c.definition.resource_type == t} for t in TYPES}
    types = {(seeded.names.get(f.resource_name, f.resource_name)): f.resource_type for f in result.findings}
    expected = {
        (name, check): EXPECTED[name].get(check, "PASSED") for name in EXPECTED for check in checks_by_type[types[name]]
    }
    assert {key: status for key, status in found.items() if key[0] in EXPECTED} == expected
    # Everything else (cluster members, moto's default VPC, the root volumes...) has no failure.
    others = {key: status for key, status in found.items() if key[0] not in EXPECTED}
    assert [key for key, status in others.items() if status == "FAILED"] == []
    members = [
        key for key in others if key[0].startswith(("aurora-", "graph-")) and key[1].startswith("rds-db-instance")
    ]
    assert members, "cluster members are collected as instances"
    assert all(others[key] == "NOT_APPLICABLE" for key in members), "members are judged at cluster level"
    assert sum(1 for key in found if key[1] == "ec2-vpc-nat-gateway-per-az") == len(
        [name for name, resource_type in types.items() if resource_type == "AWS::EC2::VPC"]
    ), "one finding per VPC"


def test_aws_backup_unreadable_costs_only_the_backup_checks(seeded: Seeded, factory: Any) -> None:
    """On plain moto ListProtectedResources answers 404: five units report a gap naming AwsBackup,
    the backup checks are UNKNOWN (not out of scope), and every other verdict is the same as with
    AWS Backup readable."""
    result, found = audit(factory, seeded)

    assert result.summary.result == "partial"
    assert sorted(g.resource_type for g in result.coverage_gaps) == sorted(BACKED_UP_TYPES)
    assert all(g.fields == ("AwsBackup",) for g in result.coverage_gaps)
    backup_checks = {key: status for key, status in found.items() if key[1].endswith("-aws-backup-recent")}
    assert set(backup_checks.values()) == {"UNKNOWN"}
    for (name, check), status in found.items():
        if name in EXPECTED and not check.endswith("-aws-backup-recent"):
            assert status == EXPECTED[name].get(check, "PASSED"), (name, check)
