"""AWS::StepFunctions::StateMachine collector on moto: the definition parsed into error-handling counts."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from relaudit.catalog.evaluate import judge
from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS, load_collector
from relaudit.inventory.base import CollectorContext
from relaudit.inventory.stepfunctions_state_machine import summarize
from relaudit.models.check import Status

from .catalog_support import collect_needing
from .lambda_support import ACCOUNT

CATALOG = load_catalog(known_types=COLLECTORS)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/states"
LAMBDA = "arn:aws:states:::lambda:invoke"
RETRY = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}]
CATCH = [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]

ORDER_FLOW = {
    "StartAt": "Route",
    "TimeoutSeconds": 3600,
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.kind", "StringEquals": "big", "Next": "Fan"}],
            "Default": "Charge",
        },
        "Charge": {"Type": "Task", "Resource": LAMBDA, "Retry": RETRY, "Catch": CATCH, "Next": "Ship"},
        "Ship": {  # a .sync job without TimeoutSeconds, no Retry, no Catch
            "Type": "Task",
            "Resource": "arn:aws:states:::ecs:runTask.sync",
            "End": True,
        },
        "Fan": {
            "Type": "Parallel",
            "Catch": CATCH,  # catches for everything inside
            "Branches": [
                {
                    "StartAt": "Approve",
                    "States": {
                        "Approve": {  # callback with a timeout but no heartbeat
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                            "TimeoutSeconds": 86400,
                            "Retry": [{"ErrorEquals": ["States.Timeout"], "BackoffRate": 1.0}],
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "Each",
                    "States": {
                        "Each": {
                            "Type": "Map",
                            "ItemProcessor": {
                                "StartAt": "Pick",
                                "States": {
                                    "Pick": {
                                        "Type": "Choice",
                                        "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Skip"}],
                                    },
                                    "Skip": {"Type": "Succeed"},
                                },
                            },
                            "End": True,
                        }
                    },
                },
            ],
            "End": True,
        },
        "Failed": {"Type": "Fail", "Error": "OrderFailed"},
    },
}


def test_summary_counts_nested_states() -> None:
    summary = summarize(json.dumps(ORDER_FLOW))
    assert summary == {
        "States": 9,
        "TaskStates": 3,
        "TaskStatesWithoutRetry": 1,  # Ship
        "UncaughtStates": 1,  # Ship; Approve and Each are inside the catching Parallel
        "LongRunningTaskStates": 2,  # Ship (.sync), Approve (callback)
        "LongRunningTaskStatesWithoutTimeout": 1,  # Ship
        "CallbackTaskStates": 1,
        "CallbackTaskStatesWithoutHeartbeat": 1,
        "ChoiceStates": 2,
        "ChoiceStatesWithoutDefault": 1,  # Pick
        "Retriers": 2,
        "RetriersWithoutBackoff": 1,
        "WaitStates": 0,
        "TimeoutSeconds": 3600,
        "MultiStepPath": True,  # Charge then Ship
    }


def test_unparsable_definition_has_no_summary() -> None:
    assert summarize("not json") is None
    assert summarize("[]") is None


def test_state_machines_across_pages(aws: None, collect: Any, calls: Any) -> None:
    states = boto3.client("stepfunctions", region_name="us-east-1")
    states.create_state_machine(
        name="orders",
        definition=json.dumps(ORDER_FLOW),
        roleArn=ROLE,
        loggingConfiguration={"level": "ERROR", "includeExecutionData": False},
    )
    simple = {"StartAt": "Go", "States": {"Go": {"Type": "Pass", "End": True}}}
    for i in range(3):
        states.create_state_machine(name=f"simple-{i}", definition=json.dumps(simple), roleArn=ROLE, type="EXPRESS")
    seen = calls("stepfunctions")

    docs = collect("AWS::StepFunctions::StateMachine")

    assert sorted(docs) == ["orders", "simple-0", "simple-1", "simple-2"]
    orders = docs["orders"]
    assert orders.arn == f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:orders"
    assert "definition" not in orders.properties
    assert orders.properties["DefinitionSummary"]["UncaughtStates"] == 1
    assert orders.properties["loggingConfiguration"]["level"] == "ERROR"
    assert orders.properties["type"] == "STANDARD"
    assert docs["simple-0"].properties["type"] == "EXPRESS"
    assert docs["simple-0"].properties["DefinitionSummary"]["TaskStates"] == 0
    assert seen.count("ListStateMachines") >= 2


def _task(resource: str = LAMBDA, **more: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, **more}


@pytest.mark.parametrize(
    ("states", "multi"),
    [
        ({"A": _task(End=True)}, False),
        ({"A": _task(Next="B"), "B": _task(End=True)}, True),
        # an Express API backend: one task per route
        (
            {
                "Route": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.p", "StringEquals": "a", "Next": "A"}],
                    "Default": "B",
                },
                "A": _task(End=True),
                "B": _task(End=True),
            },
            False,
        ),
        # the Catch path is error handling, not a second step
        ({"A": _task(End=True, Catch=CATCH), "Failed": {"Type": "Fail"}}, False),
        # a polling loop: the task runs again
        (
            {
                "A": _task(Next="Wait"),
                "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Done?"},
                "Done?": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.d", "BooleanEquals": False, "Next": "A"}],
                    "Default": "End",
                },
                "End": {"Type": "Succeed"},
            },
            True,
        ),
        (
            {
                "Fan": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [{"StartAt": "X", "States": {"X": _task(End=True)}}] * 2,
                }
            },
            True,
        ),
        (
            {"Each": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "X", "States": {"X": _task(End=True)}}}},
            True,
        ),
        (
            {
                "Each": {
                    "Type": "Map",
                    "End": True,
                    "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}},
                }
            },
            False,
        ),
        ({"Start": {"Type": "Pass", "Next": "Start"}}, False),  # a loop without work
    ],
)
def test_multi_step_path(states: dict[str, Any], multi: bool) -> None:
    start = next(iter(states))
    summary = summarize(json.dumps({"StartAt": start, "States": states}))
    assert summary is not None
    assert summary["MultiStepPath"] is multi


def test_one_step_and_pass_only_workflows_not_judged(aws: None, collect: Any) -> None:
    from .catalog_support import verdicts

    states = boto3.client("stepfunctions", region_name="us-east-1")
    machines = {
        "one-task": {"StartAt": "A", "States": {"A": _task(End=True)}},
        "two-tasks": {"StartAt": "A", "States": {"A": _task(Next="B"), "B": _task(End=True)}},
        "passes": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Q"}, "Q": {"Type": "Pass", "End": True}}},
    }
    for name, definition in machines.items():
        states.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)

    docs = collect("AWS::StepFunctions::StateMachine")

    assert verdicts("stepfunctions-state-machine-errors-caught", docs) == {
        "one-task": "NOT_APPLICABLE",
        "two-tasks": "FAILED",
        "passes": "NOT_APPLICABLE",
    }
    assert verdicts("stepfunctions-state-machine-execution-timeout", docs) == {
        "one-task": "FAILED",
        "two-tasks": "FAILED",
        "passes": "NOT_APPLICABLE",
    }


def _kms_protected(client: Any, arn: str) -> list[str]:
    """DescribeStateMachine of ``arn`` answers KmsAccessDeniedException unless includedData is
    METADATA_ONLY, as AWS does for a definition under a customer managed key the caller cannot
    decrypt with (moto 5.2 has no encrypted definitions). Returns the includedData of each call."""
    seen: list[str] = []

    def handler(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = json.loads(params.get("body") or b"{}")
        if body.get("stateMachineArn") != arn:
            return None
        seen.append(body.get("includedData", "ALL_DATA"))
        if body.get("includedData") == "METADATA_ONLY":
            return None
        error = {"Error": {"Code": "KmsAccessDeniedException", "Message": "injected"}}
        return AWSResponse("https://refused", 400, {}, None), {**error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    client.meta.events.register_first("before-call.sfn.DescribeStateMachine", handler)
    return seen


def test_kms_encrypted_definition_costs_only_its_definition_checks(aws: None, collect: Any, factory: Any) -> None:
    states = boto3.client("stepfunctions", region_name="us-east-1")
    definition = json.dumps({"StartAt": "A", "States": {"A": _task(Next="B"), "B": _task(End=True)}})
    secret = states.create_state_machine(
        name="secret", definition=definition, roleArn=ROLE, loggingConfiguration={"level": "ALL"}
    )["stateMachineArn"]
    states.create_state_machine(name="plain", definition=definition, roleArn=ROLE)
    seen = _kms_protected(factory.client("stepfunctions", "us-east-1"), secret)

    docs = collect("AWS::StepFunctions::StateMachine")

    assert sorted(docs) == ["plain", "secret"], "one encrypted definition does not cost the region"
    assert seen == ["ALL_DATA", "METADATA_ONLY"]
    machine = docs["secret"].properties
    assert "DefinitionSummary" not in machine and "definition" not in machine
    assert set(machine["_unavailable"]) == {"DefinitionSummary"}
    assert machine["_unavailable"]["DefinitionSummary"].startswith("KmsAccessDeniedException")
    assert machine["loggingConfiguration"]["level"] == "ALL", "the metadata is still judged"
    assert "_unavailable" not in docs["plain"].properties
    assert docs["plain"].properties["DefinitionSummary"]["TaskStates"] == 2
    # Evaluated: what reads the definition cannot judge the encrypted machine; what reads the
    # metadata judges it as any other.
    judged = {
        name: judge(CATALOG.checks["stepfunctions-state-machine-errors-caught"], doc.properties)
        for name, doc in docs.items()
    }
    assert judged["secret"][0] is Status.UNKNOWN
    assert "DefinitionSummary" in (judged["secret"][1] or "") and "KmsAccessDeniedException" in (
        judged["secret"][1] or ""
    )
    assert judged["plain"][0] is Status.FAILED
    logging_check = CATALOG.checks["stepfunctions-state-machine-logging-enabled"]
    assert judge(logging_check, machine) == (Status.PASSED, None)


def test_task_targets_from_the_definition_only_when_read(aws: None, collect: Any, factory: Any) -> None:
    states = boto3.client("stepfunctions", region_name="us-east-1")
    definition = {
        "StartAt": "Charge",
        "States": {
            "Charge": _task(Parameters={"FunctionName": "charge:live", "Payload.$": "$"}, Retry=RETRY, Next="Fan"),
            "Fan": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "Send",
                        "States": {
                            "Send": _task(
                                "arn:aws:states:::sqs:sendMessage",
                                Parameters={"QueueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/jobs"},
                                End=True,
                            )
                        },
                    },
                    {"StartAt": "Pick", "States": {"Pick": _task(Parameters={"FunctionName.$": "$.f"}, End=True)}},
                ],
            },
        },
    }
    states.create_state_machine(name="flow", definition=json.dumps(definition), roleArn=ROLE)

    machine = collect("AWS::StepFunctions::StateMachine")["flow"].properties

    assert "definition" not in machine, "only the compact targets are kept"
    assert machine["TaskTargets"] == [
        {"Integration": "lambda:invoke", "Target": "charge:live", "Waits": True, "Attempts": 4, "States": 1},
        {
            "Integration": "sqs:sendMessage",
            "Target": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/jobs",
            "Waits": False,
            "Attempts": 1,
            "States": 1,
        },
    ]
    unread = collect_needing(factory, "AWS::StepFunctions::StateMachine", frozenset({"DefinitionSummary"}))
    assert "TaskTargets" not in unread["flow"].properties


@pytest.mark.parametrize(("needs", "incomplete"), [(frozenset({"TaskTargets"}), ["TaskTargets"]), (frozenset(), [])])
def test_an_undecryptable_definition_is_a_failed_join_only_for_the_graph(
    aws: None, factory: Any, needs: frozenset[str], incomplete: list[str]
) -> None:
    states = boto3.client("stepfunctions", region_name="us-east-1")
    definition = json.dumps({"StartAt": "A", "States": {"A": _task(End=True)}})
    secret = states.create_state_machine(name="secret", definition=definition, roleArn=ROLE)["stateMachineArn"]
    _kms_protected(factory.client("stepfunctions", "us-east-1"), secret)
    ctx = CollectorContext(ACCOUNT, "us-east-1", factory.bound("us-east-1"), "aws", 2, needs=needs)

    (doc,) = load_collector("AWS::StepFunctions::StateMachine").collect(ctx)

    assert "TaskTargets" not in doc.properties
    assert [name for name, _ in ctx.incomplete] == incomplete
    assert all(error.response["Error"]["Code"] == "KmsAccessDeniedException" for _, error in ctx.incomplete)
