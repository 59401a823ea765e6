"""Dogfood: template.yaml, translated offline and deployed into moto, passes relaudit's own audit.

moto's CloudFormation deploys the translated template (CREATE_COMPLETE) but silently skips or drops
part of it. Each gap is filled below through the service API from the very values the translated
template holds, so the audit sees what CloudFormation would create; test_template.py asserts those
same properties on the translated template. Gaps measured with moto 5.2.5:
- resource types skipped ("No Moto CloudFormation support"): AWS::Lambda::EventInvokeConfig,
  AWS::Scheduler::Schedule, AWS::CloudWatch::Alarm, AWS::Backup::BackupVault, BackupPlan and
  BackupSelection;
- properties dropped: DynamoDB TimeToLiveSpecification, PointInTimeRecoverySpecification and
  SSESpecification; Lambda Architectures and TracingConfig; IAM ManagedPolicyArns (not audited).
moto also lacks backup:ListProtectedResources (404 "Not yet implemented"); a before-call hook on the
audit's backup client answers it with the resources the template's BackupSelection covers, backed up
an hour ago: what AWS Backup reports once the plan's first daily job has run.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Status
from relaudit.models.request import AuditRequest
from relaudit.run import run
from tests.integration.template_support import ARTIFACT_BUCKET, ARTIFACT_KEY, Resolver, resources_of, translated

STACK = "relaudit"
REGION = "us-east-1"


def _deploy(cfn: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Create the stack in moto; return each resource's type and physical id by logical id."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("relaudit/__init__.py", "")
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=ARTIFACT_KEY, Body=code.getvalue())
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(cfn),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
    )
    stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    summaries = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    # moto lists the resource types it skipped with an empty logical id; they are filled in below.
    return {
        s["LogicalResourceId"]: {"type": s["ResourceType"], "id": s["PhysicalResourceId"]}
        for s in summaries
        if s["LogicalResourceId"]
    }


def _resolver(cfn: dict[str, Any], deployed: dict[str, dict[str, str]]) -> Resolver:
    """Intrinsic functions resolved against what moto created."""
    sqs = boto3.client("sqs", region_name=REGION)
    refs = {logical: resource["id"] for logical, resource in deployed.items()}
    attributes: dict[tuple[str, str], str] = {}
    for logical, resource in deployed.items():
        if resource["type"] == "AWS::SQS::Queue":
            queue = sqs.get_queue_attributes(QueueUrl=resource["id"], AttributeNames=["QueueArn"])
            attributes[(logical, "Arn")] = queue["Attributes"]["QueueArn"]
            attributes[(logical, "QueueName")] = resource["id"].rsplit("/", 1)[-1]
        elif resource["type"] == "AWS::Lambda::Function":
            attributes[(logical, "Arn")] = f"arn:aws:lambda:{REGION}:123456789012:function:{resource['id']}"
        elif resource["type"] == "AWS::IAM::Role":
            attributes[(logical, "Arn")] = f"arn:aws:iam::123456789012:role/{resource['id']}"
        elif resource["type"] == "AWS::DynamoDB::Table":
            attributes[(logical, "Arn")] = f"arn:aws:dynamodb:{REGION}:123456789012:table/{resource['id']}"
    return Resolver(cfn, {}, refs, attributes)


def _as_deployed(cfn: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    """The template without the resources whose Condition is false (org mode's, by default)."""
    kept = {k: r for k, r in cfn["Resources"].items() if "Condition" not in r or resolver.condition(r["Condition"])}
    return {**cfn, "Resources": kept}


def _fill_moto_gaps(
    cfn: dict[str, Any], deployed: dict[str, dict[str, str]], resolver: Resolver
) -> dict[str, dict[str, str]]:
    """Create through the service APIs what moto's CloudFormation skipped or dropped (module docstring).

    Returns:
        The resources created here, as ``_deploy`` returns them.
    """
    created: dict[str, dict[str, str]] = {}
    lam = boto3.client("lambda", region_name=REGION)
    for resource in resources_of(cfn, "AWS::Lambda::EventInvokeConfig").values():
        props = resolver.resolve(resource["Properties"])
        props.pop("Qualifier")
        lam.put_function_event_invoke_config(**props)
    for logical, resource in resources_of(cfn, "AWS::Lambda::Function").items():
        tracing = resolver.resolve(resource["Properties"].get("TracingConfig"))
        if tracing:
            lam.update_function_configuration(FunctionName=deployed[logical]["id"], TracingConfig=tracing)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for logical, resource in resources_of(cfn, "AWS::CloudWatch::Alarm").items():
        cloudwatch.put_metric_alarm(AlarmName=f"{STACK}-{logical}", **resolver.resolve(resource["Properties"]))
        created[logical] = {"type": resource["Type"], "id": f"{STACK}-{logical}"}
    scheduler = boto3.client("scheduler", region_name=REGION)
    for logical, resource in resources_of(cfn, "AWS::Scheduler::Schedule").items():
        props = resolver.resolve(resource["Properties"])
        scheduler.create_schedule(**props)
        created[logical] = {"type": resource["Type"], "id": props["Name"]}
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for logical, resource in resources_of(cfn, "AWS::DynamoDB::Table").items():
        props = resolver.resolve(resource["Properties"])
        name = deployed[logical]["id"]
        if "PointInTimeRecoverySpecification" in props:
            dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification=props["PointInTimeRecoverySpecification"]
            )
        if "TimeToLiveSpecification" in props:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
        if props.get("SSESpecification", {}).get("SSEEnabled"):
            try:
                dynamodb.update_table(TableName=name, SSESpecification={"Enabled": True})
            except ClientError as exc:  # pragma: no cover - depends on moto's version
                pytest.fail(f"moto cannot set SSE by API either ({exc}); assert it on the template only")
    return created


def _answer_list_protected_resources(factory: Any, cfn: dict[str, Any], resolver: Resolver) -> None:
    """Serve backup:ListProtectedResources (missing in moto) from the template's BackupSelection."""
    protected = [
        arn
        for resource in resources_of(cfn, "AWS::Backup::BackupSelection").values()
        if resolver.condition(resource["Condition"])
        for arn in resolver.resolve(resource["Properties"]["BackupSelection"]["Resources"])
    ]
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    results = [{"ResourceArn": arn, "ResourceType": "DynamoDB", "LastBackupTime": an_hour_ago} for arn in protected]

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://backup.local", 200, {}, None), {"Results": results}  # type: ignore[arg-type]

    factory.client("backup", REGION).meta.events.register_first("before-call.backup.ListProtectedResources", answer)


def audit_own_resources(factory: Any, deployed: dict[str, dict[str, str]]) -> tuple[Any, list[Any], set[str]]:
    """Audit the region with every check that reads a type the stack created (the others would
    only slow the test down); return the result, the findings on the stack's own resources, and
    the collected types."""
    catalog = load_catalog(known_types=COLLECTORS)
    # Types a check judges (the workload graph also reads roles, stacks and tags: no check of their own).
    judged = {c.definition.resource_type for c in catalog.checks.values()}
    collected_types = {r["type"] for r in deployed.values() if r["type"] in judged}
    checks = sorted(c.id for c in catalog.checks.values() if c.definition.resource_type in collected_types)
    result = run(AuditRequest(regions=[REGION], checks=checks), catalog, factory)
    names = {r["id"] for r in deployed.values()} | {r["id"].rsplit("/", 1)[-1] for r in deployed.values()}
    own = [
        f
        for f in result.findings
        if {f.resource_name, f.resource_arn, f.resource_arn.rsplit("/", 1)[-1], f.resource_arn.rsplit(":", 1)[-1]}
        & names
    ]
    return result, own, collected_types


def test_the_deployed_stack_passes_its_own_audit(factory: Any) -> None:
    cfn = translated()
    deployed = _deploy(cfn)
    resolver = _resolver(cfn, deployed)
    cfn = _as_deployed(cfn, resolver)
    deployed |= _fill_moto_gaps(cfn, deployed, resolver)
    _answer_list_protected_resources(factory, cfn, resolver)

    result, own, collected_types = audit_own_resources(factory, deployed)
    failed = [f"{f.check_id} on {f.resource_name}: {f.reason}" for f in own if f.status is Status.FAILED]
    assert not failed, "the auditor's own stack fails its audit:\n" + "\n".join(failed)

    # Not vacuous: every stack resource of a collected type was audited, and none went unread.
    assert {"AWS::Lambda::Function", "AWS::SQS::Queue", "AWS::DynamoDB::Table"} <= collected_types
    assert {f.resource_type for f in own} >= collected_types
    gaps = [g for g in result.coverage_gaps if g.resource_type in collected_types]
    assert not gaps, gaps
    passed = {(f.check_id, f.resource_name) for f in own if f.status is Status.PASSED}
    assert ("lambda-function-async-failure-captured", f"{STACK}-audit") in passed
    assert ("lambda-function-reserved-concurrency-set", f"{STACK}-audit") in passed
    table = deployed["FindingsTable"]["id"]
    assert {("dynamodb-table-pitr-enabled", table), ("dynamodb-table-aws-backup-recent", table)} <= passed
