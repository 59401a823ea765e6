"""template.yaml: it lints, translates offline, and declares what the deployment issue asks for.

Properties that moto's CloudFormation drops (PITR, TTL, SSE, the schedule, the async invoke config,
the alarms; see test_dogfood.py) are asserted here, on the translated template.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest

from relaudit.events import request_from_event
from relaudit.idempotency import EXPIRES_AFTER_SECONDS
from relaudit.models.request import AuditRequest
from relaudit.sinks import table_schema
from tests.conftest import EVENTS, ROOT, load_event
from tests.integration.template_support import (
    ORG_MODE,
    TEMPLATE,
    NoIAMLoader,
    Resolver,
    parameter_defaults,
    resources_of,
    sam_template,
    translated,
)

FUNCTION = "AuditFunction"


def _props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return properties


def _only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    # The single-account stack's; org mode's twins (tests/integration/org/test_template_org.py) aside.
    found = {k: v for k, v in resources_of(template, resource_type).items() if v.get("Condition") != ORG_MODE}
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    properties: dict[str, Any] = next(iter(found.values()))["Properties"]
    return properties


def _function_environment(parameters: dict[str, str] | None = None) -> dict[str, str]:
    """The function's environment as deployed with ``parameters`` (others at their defaults)."""
    cfn = translated()
    refs = {"FindingsTable": "relaudit-FindingsTable-ABC123"}
    resolved = Resolver(cfn, parameters, refs).resolve(_props(cfn, FUNCTION)["Environment"]["Variables"])
    return {key: str(value) for key, value in resolved.items()}


def test_cfn_lint_is_clean_including_informational_rules() -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(TEMPLATE.read_text(), config=ManualArgs(regions=["us-east-1", "eu-west-1"], include_checks=["I"]))
    assert [str(m) for m in matches] == []


def test_translates_offline_without_calling_iam() -> None:
    cfn = translated()  # no credentials in the test environment: an IAM call would fail
    assert NoIAMLoader.calls == 0, "managed policy names must resolve from the translator's bundled map"
    types = {resource["Type"] for resource in cfn["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Serverless::")}
    assert {
        "AWS::Lambda::Function",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Scheduler::Schedule",
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::CloudWatch::Alarm",
    } <= types


def test_function_runtime_architecture_and_powertools_globals() -> None:
    sam = sam_template()
    function = _props(translated(), FUNCTION)
    assert function["Runtime"] in ("python3.12", "python3.13")
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "relaudit.handlers.handler"
    assert function["MemorySize"] == {"Ref": "MemorySize"}
    assert function["Timeout"] == {"Ref": "Timeout"}
    params = sam["Parameters"]
    assert int(params["Timeout"]["Default"]) <= 900
    assert int(params["Timeout"]["MaxValue"]) < EXPIRES_AFTER_SECONDS, "idempotency must outlive any run"
    globals_env = sam["Globals"]["Function"]["Environment"]["Variables"]
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"} <= set(globals_env)
    assert globals_env["LOG_LEVEL"] == {"Ref": "LogLevel"}
    logging = function.get("LoggingConfig", {})
    # JSON format enables Lambda's log-level controls, which would override LOG_LEVEL unless wired too.
    assert logging.get("LogFormat", "Text") == "Text" or "ApplicationLogLevel" in logging
    assert function["ReservedConcurrentExecutions"]["Fn::If"][0] == "HasReservedConcurrency"
    assert int(params["ReservedConcurrency"]["Default"]) > 0


def test_the_makefile_builds_the_function() -> None:
    sam = sam_template()
    metadata = sam["Resources"][FUNCTION]["Metadata"]
    assert metadata["BuildMethod"] == "makefile"
    makefile = (ROOT / metadata.get("ContextPath", ".") / "Makefile").read_text()
    target = re.search(rf"^build-{FUNCTION}:.*?(?=^\S|\Z)", makefile, re.M | re.S)
    assert target, f"`sam build` runs `make build-{FUNCTION}`: the Makefile lacks that target"
    # What the recipe installs (the Lambda lock's aarch64 wheels) is held by test_packaging.py, which runs it.
    assert "$(LAMBDA_LOCK)" in target.group(0), "the artifact installs the Lambda lock"
    runtime = _props(translated(), FUNCTION)["Runtime"]
    assert f"LAMBDA_PYTHON := {runtime.removeprefix('python')}" in makefile, "wheels for the function's Python"


def test_findings_table_is_declared_from_the_table_schema() -> None:
    table = _props(translated(), "FindingsTable")
    assert table["KeySchema"] == table_schema.KEY_SCHEMA
    by_name = lambda items: sorted(items, key=lambda item: item["AttributeName"])  # noqa: E731
    assert by_name(table["AttributeDefinitions"]) == by_name(table_schema.ATTRIBUTE_DEFINITIONS)
    by_index = lambda items: sorted(items, key=lambda item: item["IndexName"])  # noqa: E731
    assert by_index(table["GlobalSecondaryIndexes"]) == by_index(table_schema.GLOBAL_SECONDARY_INDEXES)
    # moto drops TTL, PITR and SSE when it deploys this (test_dogfood.py sets them by API): assert them here.
    assert table["TimeToLiveSpecification"] == {"AttributeName": table_schema.TTL_ATTRIBUTE, "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True
    resource = translated()["Resources"]["FindingsTable"]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"


def test_async_invocations_have_bounded_retries_and_a_failure_destination() -> None:
    cfn = translated()
    config = _only(cfn, "AWS::Lambda::EventInvokeConfig")  # moto ignores this resource type
    assert config["FunctionName"] == {"Ref": FUNCTION}
    assert 0 <= config["MaximumRetryAttempts"] <= 2
    assert 60 <= config["MaximumEventAgeInSeconds"] <= 6 * 3600
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FailureQueue", "Arn"]}


def test_queues_are_encrypted_and_the_failure_queue_has_its_own_dead_letter_queue() -> None:
    cfn = translated()
    queues = resources_of(cfn, "AWS::SQS::Queue")
    assert set(queues) == {"FailureQueue", "FailureArchiveQueue"}
    for name, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue["Properties"], name
    failure = queues["FailureQueue"]["Properties"]
    assert failure["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FailureArchiveQueue", "Arn"]}
    archive = queues["FailureArchiveQueue"]["Properties"]
    assert archive["MessageRetentionPeriod"] > failure["MessageRetentionPeriod"], "a DLQ outlives its source"


def test_schedule_sends_what_events_scheduled_json_holds() -> None:
    cfn = translated()
    schedule = _only(cfn, "AWS::Scheduler::Schedule")  # moto ignores this resource type
    target = schedule["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}
    assert 0 < target["RetryPolicy"]["MaximumRetryAttempts"] <= 5
    assert schedule["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    default = parameter_defaults(cfn)["ScheduleExpression"]
    daily = re.compile(r"rate\(1 day\)|rate\(24 hours\)|cron\(\d+ \d+ \* \* \? \*\)")
    assert daily.fullmatch(default), f"the default schedule should be daily, not {default}"

    sample = load_event("scheduled")
    sent = json.loads(target["Input"])
    assert set(sent) == set(sample), "events/scheduled.json must have the keys the schedule sends"
    context = re.compile(r"^<aws\.scheduler\.[a-z-]+>$")
    assert {k: v for k, v in sent.items() if not context.match(v)} == {
        k: v for k, v in sample.items() if not context.match(sent[k])
    }, "constant fields differ between the schedule's Input and events/scheduled.json"


def test_scheduled_event_takes_its_scope_from_the_deployed_environment() -> None:
    request = request_from_event(load_event("scheduled"), _function_environment())
    assert request.regions == [] and request.checks == []  # defaults: every enabled region, every check
    assert request.sinks == ["securityhub", "dynamodb"]
    assert request.table == "relaudit-FindingsTable-ABC123"

    narrowed = _function_environment(
        {"Regions": "eu-west-1,us-east-1", "Checks": "rds-db-instance-multi-az", "SecurityHub": "false"}
    )
    request = request_from_event(load_event("scheduled"), narrowed)
    assert request.regions == ["eu-west-1", "us-east-1"]
    assert request.checks == ["rds-db-instance-multi-az"]
    assert request.sinks == ["dynamodb"]


@pytest.mark.parametrize("name", sorted(p.stem for p in EVENTS.glob("*.json")))
def test_every_event_file_is_a_valid_request(name: str) -> None:
    request = request_from_event(load_event(name), _function_environment())
    assert isinstance(request, AuditRequest)


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        ("Regions", "us-east-1,eu-west-1", "us-east-1, eu-west-1"),
        ("Regions", "", "US-EAST-1"),
        ("Checks", "rds-db-instance-multi-az,sqs-queue-redrive-policy-configured", "Rds_Multi"),
    ],
)
def test_parameter_patterns_accept_what_the_request_model_accepts(parameter: str, good: str, bad: str) -> None:
    pattern = re.compile(sam_template()["Parameters"][parameter]["AllowedPattern"])
    assert pattern.fullmatch(good)
    assert not pattern.fullmatch(bad)
    field = parameter.lower()
    AuditRequest.model_validate({field: [item for item in good.split(",") if item]})


def test_alarms_watch_both_queues_and_the_functions_errors_and_throttles() -> None:
    alarms = resources_of(translated(), "AWS::CloudWatch::Alarm")  # moto ignores this resource type
    watched = set()
    for alarm in alarms.values():
        props = alarm["Properties"]
        dimension = props["Dimensions"][0]["Value"]
        target = dimension.get("Ref") or dimension.get("Fn::GetAtt", [None])[0]
        watched.add((props["MetricName"], target))
        assert props["Threshold"] >= 1 and props["TreatMissingData"] == "notBreaching"
        # An alarm nobody hears fails the auditor's own alarm checks: the stack's topic or the user's.
        expected_action = [{"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}]
        assert props["AlarmActions"] == props["OKActions"] == expected_action
    assert watched >= {
        ("ApproximateNumberOfMessagesVisible", "FailureQueue"),
        ("ApproximateNumberOfMessagesVisible", "FailureArchiveQueue"),
        ("Errors", FUNCTION),
        ("Throttles", FUNCTION),
    }


def test_findings_table_is_backed_up_daily_by_aws_backup() -> None:
    cfn = translated()
    selection = _props(cfn, "BackupSelection")["BackupSelection"]
    assert selection["Resources"] == [{"Fn::GetAtt": ["FindingsTable", "Arn"]}]
    (rule,) = _props(cfn, "BackupPlan")["BackupPlan"]["BackupPlanRule"]
    assert re.fullmatch(r"cron\(\d+ \d+ \* \* \? \*\)", rule["ScheduleExpression"]), "daily"
    assert rule["Lifecycle"]["DeleteAfterDays"] >= 7
    vault = cfn["Resources"]["BackupVault"]
    assert vault["DeletionPolicy"] == "Retain", "recovery points outlive the stack"
    assert parameter_defaults(cfn)["BackupFindingsTable"] == "true"


def test_parameters_and_outputs() -> None:
    cfn = translated()
    assert {"Regions", "Checks", "SecurityHub", "LogLevel", "ScheduleExpression", "MemorySize", "Timeout"} <= set(
        cfn["Parameters"]
    )
    assert cfn["Parameters"]["Regions"]["Default"] == "", "default: every enabled region"
    outputs = {name: output["Value"] for name, output in cfn["Outputs"].items()}
    assert outputs["AuditFunctionName"] == {"Ref": FUNCTION}
    assert outputs["FindingsTableName"] == {"Ref": "FindingsTable"}
    assert outputs["FailureQueueUrl"] == {"Ref": "FailureQueue"}
    assert "AlarmTopicArn" in outputs


def test_samconfig_deploys_without_flags_in_default_and_prod() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for env in ("default", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert config[env]["global"]["parameters"]["stack_name"]
        assert "CAPABILITY_IAM" in deploy["capabilities"]
        assert deploy["resolve_s3"] is True
        assert config[env]["validate"]["parameters"]["lint"] is True
        overrides = dict(re.findall(r'(\w+)="([^"]*)"', deploy.get("parameter_overrides", "")))
        assert set(overrides) <= set(sam_template()["Parameters"]), f"{env}: unknown parameter override"
