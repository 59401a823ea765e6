"""Seed an AWS account (a moto server in practice) with compliant and defective resources.

Every resource is recorded as a Planted row saying which status each check must give it, so
tests can hold the audit to "every defect found, no false alarm".
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEMO_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ASSUME_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)

ClientMaker = Callable[[str, str], Any]


@dataclass(frozen=True)
class Planted:
    """One resource the seed created and the status one check must give it."""

    region: str
    check_id: str
    name: str
    expect: str


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


class _Seeder:
    def __init__(self, client: ClientMaker, region: str, role_arn: str) -> None:
        self.client = client
        self.region = region
        self.role_arn = role_arn
        self.topic_arn = str(client("sns", region).create_topic(Name="oncall")["TopicArn"])
        self.planted: list[Planted] = []

    def plant(self, check_id: str, name: str, expect: str) -> None:
        self.planted.append(Planted(self.region, check_id, name, expect))

    def network(self) -> tuple[list[str], str]:
        ec2 = self.client("ec2", self.region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:3]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
            for i, zone in enumerate(zones)
        ]
        group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
        return subnets, group

    def databases(self) -> None:
        rds = self.client("rds", self.region)
        # name: (Multi-AZ, backup retention days, tags); every other setting is compliant
        plan: dict[str, tuple[bool, int, list[dict[str, str]]]] = {
            "orders-db": (True, 7, []),
            "reports-db": (False, 7, []),
            "ledger-db": (True, 1, [{"Key": "relaudit-demo:backup", "Value": "none"}]),
        }
        for name, (multi_az, retention, tags) in plan.items():
            rds.create_db_instance(
                DBInstanceIdentifier=name,
                DBInstanceClass="db.t3.micro",
                Engine="postgres",
                MasterUsername="app",
                MasterUserPassword="not-a-secret-demo-only",
                AllocatedStorage=20,
                MultiAZ=multi_az,
                BackupRetentionPeriod=retention,
                DeletionProtection=True,
                Tags=tags,
            )
            self.plant("rds-db-instance-multi-az", name, "PASSED" if multi_az else "FAILED")
            self.plant("rds-db-instance-backup-retention", name, "PASSED" if retention >= 7 else "FAILED")
            self.plant("rds-db-instance-aws-backup-recent", name, "FAILED" if tags else "PASSED")

    def tables(self) -> None:
        dynamodb = self.client("dynamodb", self.region)
        for name, pitr in (("carts", True), ("sessions", False)):
            dynamodb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                DeletionProtectionEnabled=True,
            )
            if pitr:
                dynamodb.update_continuous_backups(
                    TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
                )
            self.plant("dynamodb-table-pitr-enabled", name, "PASSED" if pitr else "FAILED")
            self.plant("dynamodb-table-deletion-protection", name, "PASSED")

    def load_balancers(self, subnets: list[str], group: str) -> None:
        elbv2 = self.client("elbv2", self.region)
        for name, kind, zones in (("web-alb", "application", subnets[:2]), ("ingest-nlb", "network", subnets[:1])):
            extra = {"SecurityGroups": [group]} if kind == "application" else {}
            arn = elbv2.create_load_balancer(Name=name, Subnets=zones, Type=kind, **extra)["LoadBalancers"][0][
                "LoadBalancerArn"
            ]
            attributes = [{"Key": "deletion_protection.enabled", "Value": "true"}]
            if kind == "network":
                attributes.append({"Key": "load_balancing.cross_zone.enabled", "Value": "true"})
            elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=attributes)
            self.plant("elbv2-load-balancer-multi-az", name, "PASSED" if len(zones) > 1 else "FAILED")
            self.plant("elbv2-load-balancer-deletion-protection", name, "PASSED")

    def autoscaling(self, subnets: list[str]) -> None:
        ec2 = self.client("ec2", self.region)
        ec2.create_launch_template(
            LaunchTemplateName="web",
            LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
        )
        autoscaling = self.client("autoscaling", self.region)
        for name, zones in (("web-asg", subnets[:3]), ("batch-asg", subnets[:1])):
            autoscaling.create_auto_scaling_group(
                AutoScalingGroupName=name,
                LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
                MinSize=0,
                MaxSize=2,
                DesiredCapacity=0,
                VPCZoneIdentifier=",".join(zones),
            )
            self.plant("autoscaling-group-multi-az", name, "PASSED" if len(zones) > 1 else "FAILED")

    def alarm(self, namespace: str, metric: str, dimension: str, value: str) -> None:
        self.client("cloudwatch", self.region).put_metric_alarm(
            AlarmName=f"{value}-{metric}",
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": dimension, "Value": value}],
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[self.topic_arn],
        )

    def queues(self) -> str:
        sqs = self.client("sqs", self.region)
        fourteen_days = str(14 * 24 * 3600)
        dlq_url = sqs.create_queue(QueueName="orders-dlq", Attributes={"MessageRetentionPeriod": fourteen_days})
        attributes = sqs.get_queue_attributes(QueueUrl=dlq_url["QueueUrl"], AttributeNames=["QueueArn"])
        dlq_arn = str(attributes["Attributes"]["QueueArn"])
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
        sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": redrive})
        sqs.create_queue(QueueName="emails")
        self.alarm("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "orders-dlq")
        for name in ("orders", "emails"):
            self.alarm("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", name)
        self.plant("sqs-queue-redrive-policy-configured", "orders", "PASSED")
        self.plant("sqs-queue-redrive-policy-configured", "orders-dlq", "NOT_APPLICABLE")
        self.plant("sqs-queue-redrive-policy-configured", "emails", "FAILED")
        self.plant("sqs-queue-dlq-depth-alarm-configured", "orders-dlq", "PASSED")
        self.plant("sqs-queue-dlq-retention-exceeds-sources", "orders-dlq", "PASSED")
        return dlq_arn

    def functions(self, subnets: list[str], group: str, dlq_arn: str) -> None:
        lam = self.client("lambda", self.region)
        code = {"ZipFile": _zip()}
        common = {
            "Runtime": "python3.12",
            "Role": self.role_arn,
            "Handler": "app.handler",
            "Code": code,
            "Timeout": 30,
        }
        # name: (subnets or None, on-failure destination?, reserved concurrency or None, async invoker)
        plan = {
            "checkout": (subnets[:2], True, 50, "events.amazonaws.com"),
            "thumbnailer": (subnets[:1], False, None, "s3.amazonaws.com"),
            "notifier": (None, True, None, "sns.amazonaws.com"),
        }
        for name, (vpc_subnets, destination, reserved, invoker) in plan.items():
            extra: dict[str, Any] = {}
            if vpc_subnets:
                extra["VpcConfig"] = {"SubnetIds": vpc_subnets, "SecurityGroupIds": [group]}
            lam.create_function(FunctionName=name, **common, **extra)
            # The async checks judge only functions something invokes asynchronously.
            lam.add_permission(
                FunctionName=name, StatementId="async", Action="lambda:InvokeFunction", Principal=invoker
            )
            if destination:
                lam.put_function_event_invoke_config(
                    FunctionName=name,
                    MaximumRetryAttempts=2,
                    MaximumEventAgeInSeconds=3600,
                    DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
                )
            if reserved is not None:
                lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
            for metric in ("Errors", "Throttles"):
                self.alarm("AWS/Lambda", metric, "FunctionName", name)
            self.plant(
                "lambda-function-vpc-multi-az",
                name,
                "NOT_APPLICABLE" if not vpc_subnets else ("PASSED" if len(vpc_subnets) > 1 else "FAILED"),
            )
            for check in (
                "lambda-function-async-failure-captured",
                "lambda-function-async-retry-attempts-set",
                "lambda-function-async-event-age-bounded",
            ):
                self.plant(check, name, "PASSED" if destination else "FAILED")
            self.plant(
                "lambda-function-reserved-concurrency-set",
                name,
                "PASSED" if reserved is not None else "FAILED",
            )

    def apis(self) -> None:
        apigw = self.client("apigateway", self.region)
        for name, throttled in (("storefront", True), ("internal", False)):
            api = apigw.create_rest_api(name=name)["id"]
            root = apigw.get_resources(restApiId=api)["items"][0]["id"]
            # The throttled API also has a request contract (a validator on its method).
            contract = (
                {"requestValidatorId": apigw.create_request_validator(restApiId=api, name="params")["id"]}
                if throttled
                else {}
            )
            apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE", **contract)
            apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
            self.plant("apigateway-rest-api-request-contract", name, "PASSED" if throttled else "FAILED")
            deployment = apigw.create_deployment(restApiId=api)["id"]
            apigw.create_stage(restApiId=api, stageName="prod", deploymentId=deployment)
            if throttled:
                throttle_stage(apigw, api, "prod", rate=100, burst=50)
            self.plant("apigateway-stage-throttling-configured", f"{name}/prod", "PASSED" if throttled else "FAILED")
        v2 = self.client("apigatewayv2", self.region)
        for name, throttled in (("mobile-http", True), ("webhooks-http", False)):
            api = v2.create_api(Name=name, ProtocolType="HTTP")["ApiId"]
            settings = {"ThrottlingRateLimit": 200.0, "ThrottlingBurstLimit": 100} if throttled else {}
            v2.create_stage(ApiId=api, StageName="live", DefaultRouteSettings=settings)
            self.plant(
                "apigatewayv2-stage-throttling-configured",
                f"{name}/live",
                "PASSED" if throttled else "FAILED",
            )


def throttle_stage(apigw: Any, api: str, stage: str, rate: int, burst: int) -> None:
    """Give every method of a REST API stage its own throttle (the ``*/*`` method setting)."""
    apigw.update_stage(
        restApiId=api,
        stageName=stage,
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rate)},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)},
        ],
    )


def seed(client: ClientMaker, regions: tuple[str, ...] = DEMO_REGIONS) -> list[Planted]:
    """Create the demo workload in each region and return what each check must find.

    Args:
        client: ``client(service, region)`` returning a boto3 client for the target account.
        regions: Regions to seed.
    """
    iam = client("iam", regions[0])
    role_arn = iam.create_role(RoleName="demo-lambda", AssumeRolePolicyDocument=ASSUME_LAMBDA)["Role"]["Arn"]
    planted: list[Planted] = []
    for region in regions:
        seeder = _Seeder(client, region, role_arn)
        subnets, group = seeder.network()
        seeder.databases()
        seeder.tables()
        seeder.load_balancers(subnets, group)
        seeder.autoscaling(subnets)
        dlq_arn = seeder.queues()
        seeder.functions(subnets, group, dlq_arn)
        seeder.apis()
        planted.extend(seeder.planted)
    return planted
