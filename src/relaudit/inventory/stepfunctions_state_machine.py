"""Collector for AWS::StepFunctions::StateMachine, its definition parsed into error-handling counts."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::StepFunctions::StateMachine"
IAM_ACTIONS = frozenset({"states:ListStateMachines", "states:DescribeStateMachine"})
_CONTAINERS = ("Task", "Parallel", "Map")
# What DescribeStateMachine answers when the definition is encrypted with a customer managed KMS
# key the caller may not use (kms:Decrypt denied, key disabled or pending deletion, KMS throttled):
# the machine's metadata can still be read with includedData=METADATA_ONLY.
_KMS_CODES = frozenset({"KmsAccessDeniedException", "KmsInvalidStateException", "KmsThrottlingException"})
UNAVAILABLE = "_unavailable"  # per-resource missing inputs: {property: why}; the evaluator reads it
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
    "WaitStates",
)
DOCUMENT = shapes.fields(
    shapes.Api("stepfunctions", "DescribeStateMachine", "", ("name", "definition")),
    DefinitionSummary=shapes.fields(**dict.fromkeys((*_COUNTS, "TimeoutSeconds", "MultiStepPath"), shapes.ANY)),
    _unavailable=shapes.ANY,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("stepfunctions", "ListStateMachines", "stateMachines[]", ("stateMachineArn", "name")),)


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
        if kind == "Wait":
            counts["WaitStates"] += 1
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


def _successors(state: dict[str, Any]) -> list[str]:
    """The states a state hands over to when it succeeds (Next, a Choice's rules and Default)."""
    found = [state.get("Next"), state.get("Default")]
    found += [rule.get("Next") for rule in state.get("Choices") or [] if isinstance(rule, dict)]
    return [name for name in found if isinstance(name, str)]


def _own_steps(state: dict[str, Any]) -> int:
    """Work steps a state runs itself: a Task one; a Parallel its branches' together; a Map two when
    its processor does any work (items succeed and fail one by one); everything else none."""
    kind = state.get("Type")
    if kind == "Task":
        return 1
    if kind == "Parallel":
        return min(2, sum(_path_steps(b) for b in state.get("Branches") or [] if isinstance(b, dict)))
    if kind == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        return 2 if isinstance(processor, dict) and _path_steps(processor) else 0
    return 0


def _path_steps(machine: dict[str, Any]) -> int:
    """Most work steps (see ``_own_steps``) one execution path from StartAt runs, capped at 2.

    A worklist over the states graph: each state's value only grows, at most twice, so a loop
    (a polling Choice back to a Task) ends at the cap and a loop without work stays at 0.
    """
    states = {name: state for name, state in (machine.get("States") or {}).items() if isinstance(state, dict)}
    own = {name: _own_steps(state) for name, state in states.items()}
    successors = {name: [n for n in _successors(state) if n in states] for name, state in states.items()}
    predecessors: dict[str, list[str]] = defaultdict(list)
    for name, nexts in successors.items():
        for following in nexts:
            predecessors[following].append(name)
    steps = dict.fromkeys(states, 0)
    pending = list(states)
    while pending:
        name = pending.pop()
        value = min(2, own[name] + max((steps[n] for n in successors[name]), default=0))
        if value > steps[name]:
            steps[name] = value
            pending.extend(predecessors[name])
    start = machine.get("StartAt")
    return steps.get(start, 0) if isinstance(start, str) else 0


def summarize(definition: str) -> dict[str, Any] | None:
    """Counts over an Amazon States Language definition, nested branches and Map processors included.

    ``UncaughtStates`` counts Task, Parallel and Map states whose errors no Catch handles (neither
    their own nor an enclosing Parallel's or Map's). ``MultiStepPath``: some execution path runs
    more than one step of work (Task states, a Parallel's branches, a Map's items), so a failure
    can leave earlier steps done and something to compensate; with one step per path, failing the
    execution is the whole signal. Returns None when the definition is not JSON.
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
    summary["MultiStepPath"] = _path_steps(parsed) > 1
    return summary


def _describe(states: Any, arn: str) -> tuple[dict[str, Any], str | None] | None:
    """DescribeStateMachine, and why the definition could not be read (None: it could); None when
    the machine is gone. A definition encrypted with a key the audit role may not use costs the
    definition only: the metadata is read again without it."""
    try:
        return states.describe_state_machine(stateMachineArn=arn), None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "StateMachineDoesNotExist":
            return None
        if code not in _KMS_CODES:
            raise
    try:
        machine = states.describe_state_machine(stateMachineArn=arn, includedData="METADATA_ONLY")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "StateMachineDoesNotExist":
            return None
        raise
    return machine, f"{code}: the definition is encrypted with a KMS key the audit role cannot decrypt with"


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every state machine (DescribeStateMachine) with ``DefinitionSummary`` in place of the
    raw definition, plus ``loggingConfiguration``, ``tracingConfiguration`` and ``type``.

    A machine whose definition cannot be decrypted (customer managed KMS key) is yielded with its
    metadata, no ``DefinitionSummary`` and ``_unavailable: {"DefinitionSummary": why}``: checks of
    its definition cannot judge it, the others do, and the rest of the region is unaffected.
    """
    states = ctx.client("stepfunctions")
    for listed in paginate(states, "list_state_machines", "stateMachines", ctx.page_size):
        arn = listed["stateMachineArn"]
        described = _describe(states, arn)
        if described is None:
            continue
        machine, unreadable = described
        properties = {key: value for key, value in machine.items() if key != "definition"}
        if unreadable is None:
            properties["DefinitionSummary"] = summarize(machine.get("definition") or "")
        else:
            properties[UNAVAILABLE] = {"DefinitionSummary": unreadable}
        yield document(ctx, RESOURCE_TYPE, arn, machine.get("name") or listed["name"], properties)
