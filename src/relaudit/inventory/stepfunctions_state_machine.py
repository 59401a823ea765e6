"""Collector for AWS::StepFunctions::StateMachine, its definition parsed into error-handling counts."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::StepFunctions::StateMachine"
IAM_ACTIONS = frozenset({"states:ListStateMachines", "states:DescribeStateMachine"})
_CONTAINERS = ("Task", "Parallel", "Map")
_WAITING_SUFFIXES = (".sync", ".sync:2", ".waitForTaskToken")
_COUNTS = (
    "States",
    "TaskStates",
    "TaskStatesWithoutRetry",
    "UncaughtStates",
    "LongRunningTaskStates",
    "LongRunningTaskStatesWithoutTimeout",
    "CallbackTaskStates",
    "CallbackTaskStatesWithoutHeartbeat",
    "ChoiceStates",
    "ChoiceStatesWithoutDefault",
    "Retriers",
    "RetriersWithoutBackoff",
)


def _is_activity(resource: str) -> bool:
    return ":activity:" in resource


def _count_task(state: dict[str, Any], counts: Counter[str]) -> None:
    counts["TaskStates"] += 1
    if not state.get("Retry"):
        counts["TaskStatesWithoutRetry"] += 1
    resource = str(state.get("Resource") or "")
    # Activities, .sync jobs and callbacks can wait far longer than the call itself; a plain
    # Lambda or SDK call is bounded by the function's or the API's own timeout.
    if _is_activity(resource) or resource.endswith(_WAITING_SUFFIXES):
        counts["LongRunningTaskStates"] += 1
        if "TimeoutSeconds" not in state and "TimeoutSecondsPath" not in state:
            counts["LongRunningTaskStatesWithoutTimeout"] += 1
    if _is_activity(resource) or resource.endswith(".waitForTaskToken"):
        counts["CallbackTaskStates"] += 1
        if "HeartbeatSeconds" not in state and "HeartbeatSecondsPath" not in state:
            counts["CallbackTaskStatesWithoutHeartbeat"] += 1


def _count_retriers(state: dict[str, Any], counts: Counter[str]) -> None:
    for retrier in state.get("Retry") or []:
        counts["Retriers"] += 1
        rate = retrier.get("BackoffRate", 2.0)  # ASL default: 2.0
        if isinstance(rate, int | float) and rate <= 1 and retrier.get("MaxAttempts", 3) != 0:
            counts["RetriersWithoutBackoff"] += 1


def _walk(states: dict[str, Any], caught: bool, counts: Counter[str]) -> None:
    """Count states at every depth; ``caught``: an enclosing Parallel or Map catches errors."""
    for state in states.values():
        if not isinstance(state, dict):
            continue
        counts["States"] += 1
        kind = state.get("Type")
        if kind == "Task":
            _count_task(state, counts)
        if kind == "Choice":
            counts["ChoiceStates"] += 1
            if "Default" not in state:
                counts["ChoiceStatesWithoutDefault"] += 1
        if kind not in _CONTAINERS:
            continue
        has_catch = bool(state.get("Catch"))
        if not (has_catch or caught):
            counts["UncaughtStates"] += 1
        _count_retriers(state, counts)
        children = [branch for branch in state.get("Branches") or [] if isinstance(branch, dict)]
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, dict):
            children.append(processor)
        for child in children:
            _walk(child.get("States") or {}, caught or has_catch, counts)


def summarize(definition: str) -> dict[str, Any] | None:
    """Counts over an Amazon States Language definition, nested branches and Map processors included.

    ``UncaughtStates`` counts Task, Parallel and Map states whose errors no Catch handles (neither
    their own nor an enclosing Parallel's or Map's). Returns None when the definition is not JSON.
    """
    try:
        parsed = json.loads(definition)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    counts: Counter[str] = Counter()
    _walk(parsed.get("States") or {}, False, counts)
    summary: dict[str, Any] = {key: counts.get(key, 0) for key in _COUNTS}
    summary["TimeoutSeconds"] = parsed.get("TimeoutSeconds")
    return summary


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every state machine (DescribeStateMachine) with ``DefinitionSummary`` in place of the
    raw definition, plus ``loggingConfiguration``, ``tracingConfiguration`` and ``type``.
    """
    states = ctx.client("stepfunctions")
    for listed in paginate(states, "list_state_machines", "stateMachines", ctx.page_size):
        arn = listed["stateMachineArn"]
        try:
            machine = states.describe_state_machine(stateMachineArn=arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "StateMachineDoesNotExist":
                continue
            raise
        properties = {key: value for key, value in machine.items() if key != "definition"}
        properties["DefinitionSummary"] = summarize(machine.get("definition") or "")
        yield document(ctx, RESOURCE_TYPE, arn, machine.get("name") or listed["name"], properties)
