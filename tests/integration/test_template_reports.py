"""template.yaml's ReportBucket: off by default; when named, a private, encrypted, TLS-only bucket
with a lifecycle rule, and the function may only put objects under its reports/ prefix."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest

from relaudit.report import publish, trend
from tests.integration.template_support import Resolver, translated
from tests.integration.test_dogfood import _deploy
from tests.integration.test_template_iam import ATTRIBUTES, ROLE, _statements

BUCKET = "acme-relaudit-reports"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"


def _resolver(bucket: str) -> Resolver:
    cfn = translated()
    attributes = {**ATTRIBUTES, ("ReportsBucket", "Arn"): BUCKET_ARN}
    refs = {"FindingsTable": "t", "ReportsBucket": bucket, ROLE: ROLE}
    return Resolver(cfn, {"ReportBucket": bucket}, refs, attributes)


def _statements_with(bucket: str) -> dict[str, dict[str, Any]]:
    """The function role's statements by Sid: its inline policies, plus the report policy when deployed."""
    cfn = translated()
    resolver = _resolver(bucket)
    properties = resolver.resolve(cfn["Resources"][ROLE]["Properties"])
    policies = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    report = cfn["Resources"]["ReportWritePolicy"]
    if resolver.condition(report["Condition"]):
        attached = resolver.resolve(report["Properties"])
        assert attached["Roles"] == [ROLE], "attached to the function's role only"
        policies.append(attached["PolicyDocument"])
    return {s.get("Sid", ""): s for document in policies for s in document["Statement"]}


def test_no_bucket_no_reports_by_default() -> None:
    cfn = translated()
    resolver = _resolver("")
    assert not resolver.condition("WriteReports")
    assert {cfn["Resources"][name]["Condition"] for name in ("ReportsBucket", "ReportsBucketPolicy")} == {
        "WriteReports"
    }
    env = resolver.resolve(cfn["Resources"]["AuditFunction"]["Properties"]["Environment"]["Variables"])
    assert env[publish.REPORT_BUCKET_ENV] == ""
    assert "ReportWrite" not in _statements(ROLE) and "ReportWrite" not in _statements_with("")


def test_the_function_may_only_put_reports_under_the_prefix() -> None:
    statement = _statements_with(BUCKET)["ReportWrite"]
    actions = {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
    assert actions == set(publish.IAM_ACTIONS)
    assert statement["Resource"] == f"{BUCKET_ARN}/{publish.PREFIX}*"
    granted = {
        a
        for s in _statements_with(BUCKET).values()
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    before = {
        a
        for s in _statements_with("").values()
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert granted - before == set(publish.IAM_ACTIONS) and before <= granted, (
        "the bucket adds exactly the report write"
    )
    cfn = translated()
    env = _resolver(BUCKET).resolve(cfn["Resources"]["AuditFunction"]["Properties"]["Environment"]["Variables"])
    assert env[publish.REPORT_BUCKET_ENV] == BUCKET


def test_the_bucket_is_private_encrypted_tls_only_and_expires_reports() -> None:
    cfn = translated()
    resolver = _resolver(BUCKET)
    bucket = resolver.resolve(cfn["Resources"]["ReportsBucket"]["Properties"])
    assert bucket["BucketName"] == BUCKET
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == publish.ENCRYPTION
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    (lifecycle,) = bucket["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled" and lifecycle["Prefix"] == publish.PREFIX
    assert lifecycle["ExpirationInDays"] == "90", "ReportRetentionDays' default"
    (deny,) = resolver.resolve(cfn["Resources"]["ReportsBucketPolicy"]["Properties"])["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [BUCKET_ARN, f"{BUCKET_ARN}/*"]
    assert cfn["Resources"]["ReportsBucket"]["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize(("name", "ok"), [("acme-reports", True), ("", True), ("Acme_Reports", False), ("ab", False)])
def test_report_bucket_parameter_accepts_bucket_names_only(name: str, ok: bool) -> None:
    pattern = translated()["Parameters"]["ReportBucket"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, name)) is ok


def test_the_reports_trend_reads_with_what_the_role_already_has_on_the_table() -> None:
    table = _statements(ROLE)["FindingsTable"]
    assert table["Action"] >= trend.IAM_ACTIONS, "relaudit report / the report's trend only Query the table"


def test_the_stack_deploys_with_a_report_bucket(aws: None) -> None:
    # moto's CloudFormation (as test_dogfood.py deploys the stack): the bucket and the function's
    # report policy exist as declared. moto drops the bucket's LifecycleConfiguration (no lifecycle
    # afterwards), so the rule is asserted on the translated template above, not here.
    deployed = _deploy(translated(), {"ReportBucket": BUCKET})
    assert deployed["ReportsBucket"]["id"] == BUCKET
    s3 = boto3.client("s3", region_name="us-east-1")
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == publish.ENCRYPTION
    role = deployed[ROLE]["id"]
    document = boto3.client("iam").get_role_policy(RoleName=role, PolicyName="ReportWrite")["PolicyDocument"]
    (statement,) = document["Statement"]
    assert statement["Resource"] == f"{BUCKET_ARN}/{publish.PREFIX}*"
