"""Blast radius end to end on moto: a Single-AZ database that a function behind a REST API names in
its environment fails Multi-AZ one level higher, naming the API; published with the graph's
findings, stored with its radius; without a graph check the same finding is as the check says."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest

from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Severity, Status
from relaudit.models.request import AuditRequest
from relaudit.run import run
from relaudit.sinks.dynamodb import FindingsTable, ensure_table

REGION = "us-east-1"
CATALOG = load_catalog(known_types=COLLECTORS)
MULTI_AZ = "rds-db-instance-multi-az"
GRAPH_CHECK = "lambda-function-sync-chain-shallow"
TABLE = "relaudit-findings"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def seeded(factory: Any) -> dict[str, str]:
    rds = boto3.client("rds", region_name=REGION)
    db = rds.create_db_instance(
        DBInstanceIdentifier="orders-db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="not-a-secret-1",
        MultiAZ=False,
    )["DBInstance"]
    iam = boto3.client("iam", region_name=REGION)
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    role = iam.create_role(RoleName="pricing-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    host = db["Endpoint"]["Address"]
    function = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="pricing",
        Runtime="python3.12",
        Handler="index.handler",
        Role=role,
        Code={"ZipFile": _zip()},
        Environment={"Variables": {"DATABASE_URL": f"postgres://app@{host}:5432/orders"}},
    )["FunctionArn"]
    apigateway = boto3.client("apigateway", region_name=REGION)
    api = apigateway.create_rest_api(name="shop")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(
        restApiId=api,
        resourceId=root,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function}/invocations",
    )
    return {"db": db["DBInstanceArn"], "api": f"arn:aws:apigateway:{REGION}::/restapis/{api}", "host": host}


def _multi_az(result: Any, arn: str) -> Any:
    [finding] = [f for f in result.findings if f.check_id == MULTI_AZ and f.resource_arn == arn]
    return finding


def test_the_database_behind_the_api_is_raised_and_names_it(seeded: dict[str, str], factory: Any) -> None:
    request = AuditRequest(regions=[REGION], checks=[MULTI_AZ, GRAPH_CHECK])
    finding = _multi_az(run(request, CATALOG, factory), seeded["db"])
    assert finding.status is Status.FAILED
    assert finding.severity is Severity.CRITICAL  # the check's HIGH, raised: an entry point reaches it
    assert finding.blast_radius is not None
    assert finding.blast_radius.entry_points == [seeded["api"]]
    assert finding.blast_radius.raised_from is Severity.HIGH
    assert "shop" in finding.reason


def test_without_a_graph_check_the_finding_is_as_the_check_says(seeded: dict[str, str], factory: Any) -> None:
    finding = _multi_az(run(AuditRequest(regions=[REGION], checks=[MULTI_AZ]), CATALOG, factory), seeded["db"])
    assert finding.status is Status.FAILED and finding.severity is Severity.HIGH
    assert finding.blast_radius is None


def test_the_table_stores_the_radius_and_a_deleted_database_is_archived(seeded: dict[str, str], factory: Any) -> None:
    ensure_table(factory.client("dynamodb"), TABLE)
    request = AuditRequest(regions=[REGION], checks=[MULTI_AZ, GRAPH_CHECK], sinks=["dynamodb"], table=TABLE)
    run(request, CATALOG, factory)
    table = FindingsTable(factory.client("dynamodb"), TABLE)
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    [stored] = table.load_scope(account, REGION, MULTI_AZ)
    assert stored.finding.blast_radius is not None
    assert stored.finding.blast_radius.entry_points == [seeded["api"]]
    assert stored.finding.severity is Severity.CRITICAL

    # The check is published with the graph's findings, and still reconciled there: gone is archived.
    boto3.client("rds", region_name=REGION).delete_db_instance(DBInstanceIdentifier="orders-db", SkipFinalSnapshot=True)
    run(request, CATALOG, factory)
    [gone] = table.load_scope(account, REGION, MULTI_AZ)
    assert gone.record_state == "ARCHIVED"
