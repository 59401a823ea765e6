"""AWS::StepFunctions::StateMachine collector on moto: the definition parsed into error-handling counts."""

from __future__ import annotations

import json
from typing import Any

import boto3

from relaudit.inventory.stepfunctions_state_machine import summarize

from .lambda_support import ACCOUNT

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
        "TimeoutSeconds": 3600,
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
