"""Least privilege: template.yaml's audit role holds exactly the actions the code declares, both ways.

A collector, sink or the planner that starts calling a new API declares it in its IAM_ACTIONS; these
tests then fail until template.yaml's policy lists it, and say which lines to write.
"""

from __future__ import annotations

from typing import Any

import pytest

from relaudit import idempotency
from relaudit.permissions import audit_read_actions, sink_write_actions
from relaudit.policy import source as policy_source
from relaudit.sinks import securityhub, workflow
from tests.integration.template_support import Resolver, resources_of, translated

ROLE = "AuditFunctionRole"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/relaudit-FindingsTable-ABC123"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:relaudit-FailureQueue-ABC123"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:relaudit-audit"
ATTRIBUTES = {
    ("FindingsTable", "Arn"): TABLE_ARN,
    ("FailureQueue", "Arn"): QUEUE_ARN,
    ("FailureArchiveQueue", "Arn"): QUEUE_ARN + "-archive",
    ("AuditFunction", "Arn"): FUNCTION_ARN,
}
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",  # its own log streams
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",  # Tracing: Active
}


def _statements(role: str, security_hub: str = "true", config_parameter: str = "") -> dict[str, dict[str, Any]]:
    """The role's inline statements as deployed with SecurityHub=``security_hub`` and
    ConfigParameter=``config_parameter``, by Sid (or policy name)."""
    cfn = translated()
    parameters = {"SecurityHub": security_hub, "ConfigParameter": config_parameter}
    resolver = Resolver(cfn, parameters, {"FindingsTable": "t"}, ATTRIBUTES)
    properties = resolver.resolve(cfn["Resources"][role]["Properties"])
    attached = [  # AWS::IAM::Policy resources on this role, when their condition holds
        {
            "PolicyName": policy["Properties"]["PolicyName"],
            "PolicyDocument": resolver.resolve(policy["Properties"]["PolicyDocument"]),
        }
        for policy in resources_of(cfn, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        and ("Condition" not in policy or resolver.condition(policy["Condition"]))
    ]
    found: dict[str, dict[str, Any]] = {}
    for policy in [*properties.get("Policies", []), *attached]:
        for index, statement in enumerate(policy["PolicyDocument"]["Statement"]):
            key = statement.get("Sid") or f"{policy['PolicyName']}[{index}]"
            actions = statement["Action"]
            resources = statement["Resource"]
            found[key] = {
                "Action": {actions} if isinstance(actions, str) else set(actions),
                "Resource": [resources] if isinstance(resources, str) else list(resources),
            }
    return found


def _mismatch(where: str, declared: frozenset[str] | set[str], in_template: set[str], source: str) -> str:
    missing = sorted(set(declared) - in_template)
    extra = sorted(in_template - set(declared))
    lines = "\n".join(f"                - {action}" for action in sorted(declared))
    return (
        f"template.yaml, {where}, does not match {source}:\n"
        f"  missing (the code calls these; add them): {missing}\n"
        f"  extra (no code calls these; remove them): {extra}\n"
        f"The statement's Action list should read:\n{lines}"
    )


def _expect_equal(declared: frozenset[str] | set[str], in_template: set[str], where: str, source: str) -> None:
    if in_template != set(declared):
        pytest.fail(_mismatch(where, declared, in_template, source), pytrace=False)


def _by_service(actions: frozenset[str], service: str) -> set[str]:
    return {action for action in actions if action.startswith(service + ":")}


def test_read_statement_is_exactly_the_collectors_and_planners_actions() -> None:
    read = _statements(ROLE)["AuditRead"]
    declared = audit_read_actions()
    _expect_equal(declared, read["Action"], "statement AuditRead", "relaudit.permissions.audit_read_actions()")
    assert read["Resource"] == ["*"]


def test_sink_writes_are_exactly_the_sinks_actions_on_their_own_resources() -> None:
    writes = sink_write_actions()
    unplaced = sorted(writes - _by_service(writes, "dynamodb") - _by_service(writes, "securityhub"))
    assert not unplaced, f"a sink calls {unplaced}: give it a statement in template.yaml and a case in this test"

    statements = _statements(ROLE)
    table = statements["FindingsTable"]
    declared = _by_service(writes, "dynamodb") | idempotency.IAM_ACTIONS
    _expect_equal(
        declared,
        table["Action"],
        "statement FindingsTable",
        "the dynamodb actions of relaudit.permissions.sink_write_actions() plus relaudit.idempotency.IAM_ACTIONS",
    )
    assert table["Resource"] == [TABLE_ARN, TABLE_ARN + "/index/*"]

    # BatchImportFindings on the account's own product; BatchUpdateFindings (suppressions) on its hub.
    assert _by_service(writes, "securityhub") == set(securityhub.IAM_ACTIONS | workflow.IAM_ACTIONS)
    hub = statements["SecurityHubFindings"]
    _expect_equal(securityhub.IAM_ACTIONS, hub["Action"], "statement SecurityHubFindings", "sinks.securityhub")
    assert hub["Resource"] == ["arn:aws:securityhub:*:123456789012:product/123456789012/default"]
    updates = statements["SecurityHubWorkflow"]
    _expect_equal(workflow.IAM_ACTIONS, updates["Action"], "statement SecurityHubWorkflow", "sinks.workflow")
    assert updates["Resource"] == ["arn:aws:securityhub:*:123456789012:hub/default"]


def test_the_policy_parameter_is_read_only_when_named_and_only_that_parameter() -> None:
    assert "PolicyConfig" not in _statements(ROLE), "no ConfigParameter: no SSM permission"
    statement = _statements(ROLE, config_parameter="/relaudit/config")["PolicyConfig"]
    _expect_equal(policy_source.IAM_ACTIONS, statement["Action"], "statement PolicyConfig", "policy.source")
    assert statement["Resource"] == ["arn:aws:ssm:us-east-1:123456789012:parameter/relaudit/config"]


@pytest.mark.parametrize(("security_hub", "config_parameter"), [("true", ""), ("false", ""), ("true", "/p")])
def test_the_role_holds_nothing_else(security_hub: str, config_parameter: str) -> None:
    statements = _statements(ROLE, security_hub, config_parameter)
    granted = set().union(*(statement["Action"] for statement in statements.values()))
    on_failure_destination = {"sqs:SendMessage"}  # added by SAM for the EventInvokeConfig destination
    writes = sink_write_actions()
    if security_hub == "false":
        writes -= _by_service(writes, "securityhub")
        assert "SecurityHubFindings" not in statements, "SecurityHub=false must not grant BatchImportFindings"
    expected = audit_read_actions() | writes | idempotency.IAM_ACTIONS | on_failure_destination
    if config_parameter:
        expected |= policy_source.IAM_ACTIONS
    _expect_equal(expected, granted, f"role {ROLE} (SecurityHub={security_hub})", "the code")
    senders = [s for s in statements.values() if s["Action"] == on_failure_destination]
    assert [s["Resource"] for s in senders] == [[QUEUE_ARN]]


def test_no_wildcard_actions_no_broad_managed_policies_and_writes_are_scoped() -> None:
    cfn = translated()
    roles = resources_of(cfn, "AWS::IAM::Role")
    org_roles = {"OrgFunctionRole", "OrgStateMachineRole", "OrgStateMachineScheduleRole"}  # tests/integration/org
    assert set(roles) == {ROLE, "AuditFunctionScheduleRole", "BackupRole"} | org_roles, "a new role needs its own test"
    for name in (ROLE, "AuditFunctionScheduleRole"):
        for sid, statement in _statements(name).items():
            wildcards = sorted(action for action in statement["Action"] if "*" in action)
            assert not wildcards, f"{name}/{sid}: wildcard actions {wildcards}"
            if sid != "AuditRead":
                assert "*" not in statement["Resource"], f"{name}/{sid}: a write must name its resource"
        broad = set(roles[name]["Properties"].get("ManagedPolicyArns", [])) - ALLOWED_MANAGED_POLICIES
        assert not broad, f"{name}: managed policies {sorted(broad)}"


def test_the_schedule_can_only_invoke_the_function_and_dead_letter() -> None:
    statements = _statements("AuditFunctionScheduleRole")
    granted = sorted((action, tuple(s["Resource"])) for s in statements.values() for action in s["Action"])
    assert granted == [("lambda:InvokeFunction", (FUNCTION_ARN,)), ("sqs:SendMessage", (QUEUE_ARN,))]


def test_aws_backup_role_is_backups_own_managed_policy_and_only_with_backups_on() -> None:
    cfn = translated()
    role = cfn["Resources"]["BackupRole"]
    assert role["Condition"] == "BackupEnabled"
    properties = Resolver(cfn).resolve(role["Properties"])
    assert properties["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    ]
    assert "Policies" not in properties
    (trust,) = properties["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}
    for logical in ("BackupVault", "BackupPlan", "BackupSelection"):
        assert cfn["Resources"][logical]["Condition"] == "BackupEnabled"
    assert not Resolver(cfn, {"BackupFindingsTable": "false"}).condition("BackupEnabled")
