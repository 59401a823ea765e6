"""template.yaml in org mode: it lints and translates with OrgMode=true, its state machine is the
fan-out the issue asks for, and its roles hold exactly what the code calls.

cfn-lint does not look inside a SAM state machine's definition (the transform turns it into a
Fn::Join'd DefinitionString), so the definition is also linted on its own, as a plain
AWS::StepFunctions::StateMachine (rule E3601, the Amazon States Language schema).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from relaudit.fanout import OrgSettings, org_request
from relaudit.models.org import FinalizeStep, ItemStep, OrgPlan
from relaudit.models.request import ACCOUNT_RE, EXTERNAL_ID_RE, ROLE_NAME_RE
from relaudit.permissions import org_auditor_actions, sink_write_actions
from relaudit.policy import source as policy_source
from relaudit.policy.source import CONFIG_PARAMETER_ENV
from tests.conftest import load_event
from tests.integration.org import statemachine
from tests.integration.template_support import (
    ORG_MODE,
    TEMPLATE,
    NoIAMLoader,
    Resolver,
    resources_of,
    sam_template,
    translated,
)

TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/relaudit-FindingsTable-ABC123"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:relaudit-FailureQueue-ABC123"
ORG_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:relaudit-org"
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:relaudit-org-audit"
ATTRIBUTES = {
    ("FindingsTable", "Arn"): TABLE_ARN,
    ("FailureQueue", "Arn"): QUEUE_ARN,
    ("OrgFunction", "Arn"): ORG_FUNCTION_ARN,
    ("OrgStateMachineLogGroup", "Arn"): "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/x",
}
REFS = {"FindingsTable": "relaudit-FindingsTable-ABC123", "OrgFunction": "relaudit-org", "OrgStateMachine": MACHINE_ARN}
LAMBDA_TRANSIENT = {
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
}


def _resolver(parameters: dict[str, str] | None = None) -> tuple[dict[str, Any], Resolver]:
    cfn = translated()
    return cfn, Resolver(cfn, {"OrgMode": "true", **(parameters or {})}, REFS, ATTRIBUTES)


def _statements(role: str, parameters: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The role's inline statements and those of the AWS::IAM::Policy resources on it whose condition holds."""
    cfn, resolver = _resolver(parameters)
    properties = resolver.resolve(cfn["Resources"][role]["Properties"])
    attached = [
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
            actions, resources = statement["Action"], statement["Resource"]
            found[key] = {
                "Action": {actions} if isinstance(actions, str) else set(actions),
                "Resource": [resources] if isinstance(resources, str) else list(resources),
            }
    return found


def _granted(role: str, parameters: dict[str, str] | None = None) -> set[str]:
    return set().union(*(statement["Action"] for statement in _statements(role, parameters).values()))


def _org_function_environment(parameters: dict[str, str] | None = None) -> dict[str, str]:
    cfn, resolver = _resolver(parameters)
    variables = resolver.resolve(cfn["Resources"]["OrgFunction"]["Properties"]["Environment"]["Variables"])
    return {key: str(value) for key, value in variables.items()}


def test_cfn_lint_is_clean_with_org_mode_on() -> None:
    from cfnlint.api import ManualArgs, lint

    text = TEMPLATE.read_text()
    on = re.sub(r'(  OrgMode:\n    Type: String\n    Default: )"false"', r'\1"true"', text)
    assert on != text, "the OrgMode parameter's default was not found"
    matches = lint(on, config=ManualArgs(regions=["us-east-1", "eu-west-1"], include_checks=["I"]))
    assert [str(m) for m in matches] == []


def test_the_state_machine_definition_passes_the_states_language_schema() -> None:
    from cfnlint.api import ManualArgs, lint

    machine = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/r", "Definition": statemachine.definition("t")},
    }
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Machine": machine}}
    assert [str(m) for m in lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))] == []
    broken = json.loads(json.dumps(template).replace('"Type": "Map"', '"Type": "Mapp"'))
    assert lint(json.dumps(broken), config=ManualArgs(regions=["us-east-1"])), "the lint is not vacuous"


def test_translates_offline_with_org_mode_on_and_every_org_resource_is_conditional() -> None:
    from samtranslator.translator.transform import transform

    sam = sam_template()
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://relaudit-artifacts/relaudit.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    cfn = transform(sam, {"OrgMode": "true"}, NoIAMLoader())
    org = {name: r["Type"] for name, r in cfn["Resources"].items() if r.get("Condition") == ORG_MODE}
    assert {
        "OrgFunction": "AWS::Lambda::Function",
        "OrgStateMachine": "AWS::StepFunctions::StateMachine",
        "OrgStateMachineSchedule": "AWS::Scheduler::Schedule",
        "OrgFunctionRole": "AWS::IAM::Role",
        "OrgStateMachineRole": "AWS::IAM::Role",
    }.items() <= org.items()
    names = {name for name in cfn["Resources"] if name.startswith("Org")}
    # A narrower condition (org mode and a ConfigParameter) is off with org mode off, whatever else is set.
    _, off = _resolver({"OrgMode": "false", "ConfigParameter": "/relaudit/config"})
    narrower = {
        name
        for name in names - set(org)
        if "Condition" in cfn["Resources"][name] and not off.condition(cfn["Resources"][name]["Condition"])
    }
    assert narrower == {"OrgFunctionPolicyConfig"}
    unconditional = sorted(names - set(org) - narrower)
    assert not unconditional, f"org resources without the {ORG_MODE} condition: {unconditional}"
    _, resolver = _resolver({"OrgMode": "false"})
    assert not resolver.condition(ORG_MODE), "org mode is off by default"


def test_a_distributed_map_over_account_region_items_with_its_limits_from_parameters() -> None:
    machine = statemachine.definition("t")
    assert machine["StartAt"] == "ListItems" and machine["TimeoutSeconds"] > 0
    states = machine["States"]
    assert states["ListItems"]["Next"] == "AuditItems"
    fan_out = states["AuditItems"]
    assert fan_out["Type"] == "Map" and fan_out["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    # Items may take a Lambda's full 15 minutes: Express children stop at 5.
    assert fan_out["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "STANDARD"
    assert fan_out["ItemsPath"] == "$.items"
    # MaxConcurrency and ToleratedFailurePercentage come from the list step's output, which takes
    # them from the function's environment, which takes them from the stack's parameters.
    assert fan_out["MaxConcurrencyPath"] == "$.max_concurrency"
    assert fan_out["ToleratedFailurePercentagePath"] == "$.tolerated_failure_percentage"
    assert {"max_concurrency", "tolerated_failure_percentage", "items"} <= set(OrgPlan.model_fields)
    env = _org_function_environment({"MapMaxConcurrency": "75", "MapToleratedFailurePercentage": "5"})
    settings = OrgSettings.from_env(env)
    assert (settings.max_concurrency, settings.tolerated_failure_percentage) == (75, 5.0)
    defaults = OrgSettings.from_env(_org_function_environment())
    assert defaults.tolerated_failure_percentage == 100, "by default one account's failure never stops the others"
    # One account's failure never stops the run: the Map's own failure is caught and the run recorded.
    assert fan_out["ResultPath"] is None and fan_out["Next"] == "RecordRun"
    assert [(c["ErrorEquals"], c["Next"]) for c in fan_out["Catch"]] == [(["States.ALL"], "RecordRun")]
    assert states["RecordRun"].get("End") is True
    # The payloads the Map and the last step send are the step models' fields.
    assert set(fan_out["ItemSelector"]) == {f"{k}.$" for k in ItemStep.model_fields if k != "step"} | {"step"}
    payload = states["RecordRun"]["Parameters"]["Payload"]
    assert set(payload) == {f"{k}.$" for k in FinalizeStep.model_fields if k != "step"} | {"step"}


def _tasks(states: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for name, state in states.items():
        if state["Type"] == "Task":
            found[name] = state
        for child in [state.get("ItemProcessor")] if state["Type"] == "Map" else []:
            found |= _tasks(child["States"])
    return found


def test_every_task_retries_lambda_throttling_with_backoff_and_is_caught() -> None:
    tasks = _tasks(statemachine.definition("t")["States"])
    assert set(tasks) == {"ListItems", "AuditItem", "RecordItemFailure", "RecordRun"}
    for name, task in tasks.items():
        retriers = task["Retry"]
        assert all(r["BackoffRate"] > 1 and r["MaxAttempts"] >= 3 for r in retriers), name
        if task["Resource"] == "arn:aws:states:::lambda:invoke":
            assert set(retriers[0]["ErrorEquals"]) >= LAMBDA_TRANSIENT, name
            assert "States.ALL" not in retriers[0]["ErrorEquals"], f"{name}: a bug would be retried"
            assert retriers[0].get("JitterStrategy") == "FULL", f"{name}: retries of many items must not align"
        assert [c["ErrorEquals"] for c in task["Catch"]] == [["States.ALL"]], name
    item = tasks["AuditItem"]
    assert item["Catch"][0]["Next"] == "RecordItemFailure"
    assert tasks["RecordItemFailure"]["Next"] == "ItemFailed", "a failed item counts against the tolerance"


def test_org_function_role_is_exactly_the_org_actions_and_the_table() -> None:
    statements = _statements("OrgFunctionRole")
    declared = org_auditor_actions() | {a for a in sink_write_actions() if a.startswith("dynamodb:")}
    on_failure_destination = {"sqs:SendMessage"}
    assert _granted("OrgFunctionRole") == declared | on_failure_destination
    assert statements["OrgListAccounts"] == {"Action": {"organizations:ListAccounts"}, "Resource": ["*"]}
    assert statements["AssumeMemberRole"] == {
        "Action": {"sts:AssumeRole"},
        "Resource": ["arn:aws:iam::*:role/RelauditAudit"],
    }
    assert statements["FindingsTable"]["Resource"] == [TABLE_ARN, TABLE_ARN + "/index/*"]
    # It reads nothing itself (members are read with their own role), and imports nothing itself.
    assert not {a for a in _granted("OrgFunctionRole") if a.startswith(("securityhub:", "ec2:", "lambda:"))}


def test_the_org_function_reads_the_policy_parameter_only_when_named_and_only_that_one() -> None:
    assert "PolicyConfig" not in _statements("OrgFunctionRole"), "no ConfigParameter: no SSM permission"
    named = {"ConfigParameter": "/relaudit/config"}
    assert _statements("OrgFunctionRole", named)["PolicyConfig"] == {
        "Action": set(policy_source.IAM_ACTIONS),
        "Resource": ["arn:aws:ssm:us-east-1:123456789012:parameter/relaudit/config"],
    }
    assert _granted("OrgFunctionRole", named) - _granted("OrgFunctionRole") == policy_source.IAM_ACTIONS
    # The same variable the code reads, naming the same parameter as the audit function's.
    assert _org_function_environment(named)[CONFIG_PARAMETER_ENV] == "/relaudit/config"
    assert _org_function_environment()[CONFIG_PARAMETER_ENV] == ""


def test_state_machine_role_invokes_its_function_records_failures_and_runs_its_children() -> None:
    statements = _statements("OrgStateMachineRole")
    assert statements["InvokeOrgFunction"] == {
        "Action": {"lambda:InvokeFunction"},
        "Resource": [ORG_FUNCTION_ARN, ORG_FUNCTION_ARN + ":*"],
    }
    assert statements["RecordFailedItems"] == {"Action": {"dynamodb:PutItem"}, "Resource": [TABLE_ARN]}
    assert statements["DistributedMapChildren"] == {"Action": {"states:StartExecution"}, "Resource": [MACHINE_ARN]}
    executions = "arn:aws:states:us-east-1:123456789012:execution:relaudit-org-audit/*"
    assert statements["DistributedMapExecutions"]["Resource"] == [executions]
    assert {a.split(":")[0] for a in statements["ExecutionLogDelivery"]["Action"]} == {"logs"}
    assert set(statements) == {
        "InvokeOrgFunction",
        "RecordFailedItems",
        "DistributedMapChildren",
        "DistributedMapExecutions",
        "ExecutionLogDelivery",
    }
    cfn, resolver = _resolver()
    name = resolver.resolve(cfn["Resources"]["OrgStateMachine"]["Properties"]["StateMachineName"])
    assert MACHINE_ARN.endswith(":" + name), "the children statement names this very state machine"


def test_the_org_run_is_scheduled_like_the_single_account_one() -> None:
    cfn = translated()
    schedules = resources_of(cfn, "AWS::Scheduler::Schedule")
    org, single = schedules["OrgStateMachineSchedule"], schedules["AuditFunctionSchedule"]
    for key in ("ScheduleExpression", "ScheduleExpressionTimezone", "State", "FlexibleTimeWindow"):
        assert org["Properties"][key] == single["Properties"][key], key
    target = org["Properties"]["Target"]
    assert target["Arn"] == {"Ref": "OrgStateMachine"}
    assert target["DeadLetterConfig"] == single["Properties"]["Target"]["DeadLetterConfig"]
    assert target["RetryPolicy"] == single["Properties"]["Target"]["RetryPolicy"]
    sent = json.loads(target["Input"])
    assert sent == json.loads(single["Properties"]["Target"]["Input"])
    assert set(sent) == set(load_event("org/list")["input"]), "events/org/list.json carries what the schedule sends"
    statements = _statements("OrgStateMachineScheduleRole")
    granted = sorted((a, tuple(s["Resource"])) for s in statements.values() for a in s["Action"])
    assert granted == [("sqs:SendMessage", (QUEUE_ARN,)), ("states:StartExecution", (MACHINE_ARN,))]


def test_the_scheduled_org_run_takes_its_scope_from_the_deployed_environment() -> None:
    env = _org_function_environment({"Regions": "eu-west-1", "SecurityHub": "false", "ExcludeAccounts": "1" * 12})
    settings = OrgSettings.from_env(env)
    request = org_request(load_event("org/list")["input"], settings, env)
    assert request.org and request.role_name == "RelauditAudit"
    assert request.regions == ["eu-west-1"] and request.sinks == ["dynamodb"]
    assert request.exclude_accounts == ["1" * 12] and request.table == "relaudit-FindingsTable-ABC123"
    named = _org_function_environment({"OrgAccounts": "111111111111,222222222222", "MemberExternalId": "ext-42"})
    request = org_request(load_event("org/list")["input"], OrgSettings.from_env(named), named)
    assert request.accounts == ["111111111111", "222222222222"] and not request.org
    assert request.external_id is not None and request.external_id.get_secret_value() == "ext-42"


def test_the_external_id_parameter_is_never_echoed() -> None:
    parameter = sam_template()["Parameters"]["MemberExternalId"]
    assert parameter["NoEcho"] is True
    outputs = json.dumps(translated()["Outputs"])
    assert "MemberExternalId" not in outputs


@pytest.mark.parametrize(
    ("parameter", "pattern", "good", "bad"),
    [
        ("MemberRoleName", ROLE_NAME_RE, "RelauditAudit", "role/RelauditAudit"),
        ("MemberExternalId", EXTERNAL_ID_RE, "ext-7f3c:9a1e", "has space"),
        ("OrgAccounts", ACCOUNT_RE, "111111111111", "11111111111"),
        ("IncludeAccounts", ACCOUNT_RE, "111111111111", "1111-1111-1111"),
        ("ExcludeAccounts", ACCOUNT_RE, "111111111111", "x11111111111"),
    ],
)
def test_org_parameter_patterns_accept_what_the_request_model_accepts(
    parameter: str, pattern: re.Pattern[str], good: str, bad: str
) -> None:
    allowed = re.compile(sam_template()["Parameters"][parameter]["AllowedPattern"])
    assert allowed.fullmatch(good) and pattern.match(good)
    assert not allowed.fullmatch(bad) and not pattern.match(bad)


@pytest.mark.parametrize("per_account", [False, True], ids=["per-region-items", "account-items"])
def test_the_list_steps_state_fits_step_functions_payload_limit_for_200_accounts_and_17_regions(
    per_account: bool,
) -> None:
    regions = [f"{area}-{n}" for area in ("us-east", "eu-west", "ap-southeast", "ca-central") for n in (1, 2, 3, 4)]
    regions.append("ap-northeast-3")
    accounts = [f"{100000000000 + a}" for a in range(200)]
    if per_account:  # a run with a graph check: one item per account, listing its regions
        items: list[dict[str, Any]] = [{"account": a, "region": "*", "regions": regions} for a in accounts]
    else:
        items = [{"account": a, "region": r, "regions": []} for a in accounts for r in regions]
    finalize = {k: v for k, v in load_event("org/finalize").items() if k != "step"}
    plan = OrgPlan.model_validate(
        finalize
        | {
            "accounts": sorted({i["account"] for i in items}),
            "items": items,
            "max_concurrency": 40,
            "tolerated_failure_percentage": 100,
            "expires_at": 1,
        }
    )
    assert len(plan.items) == (200 if per_account else 3400)
    assert len(plan.model_dump_json()) < 0.9 * 256 * 1024, "the list step refuses a state this big"
