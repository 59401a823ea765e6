"""Collector for AWS::StepFunctions::StateMachine, its definition parsed into error-handling counts
and the resources its Task states call."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.aws import error_code
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
    TaskTargets=shapes.ListOf(
        shapes.fields(
            Integration=shapes.ANY, Target=shapes.ANY, Waits=shapes.ANY, Attempts=shapes.ANY, States=shapes.ANY
        )
    ),
    _unavailable=shapes.ANY,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("stepfunctions", "ListStateMachines", "stateMachines[]", ("stateMachineArn", "name")),)


# Service integrations whose target the workload graph draws, as ``<service>:<action>`` of a Task's
# ``arn:<partition>:states:::<service>:<action>[.sync|.sync:2|.waitForTaskToken]`` Resource, and the
# parameter naming the target (a bare function ARN as Resource is ``lambda:invoke`` too):
# https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html
TASK_TARGET_PARAMETERS: dict[str, str] = {
    "lambda:invoke": "FunctionName",  # a name, a full or partial ARN, with or without a qualifier
    "sqs:sendMessage": "QueueUrl",
    "sns:publish": "TopicArn",
    "events:putEvents": "Entries",  # each entry's EventBusName; the default bus when it has none
    "states:startExecution": "StateMachineArn",
    "dynamodb:putItem": "TableName",  # a name or an ARN
    "dynamodb:updateItem": "TableName",
    "dynamodb:deleteItem": "TableName",
    "dynamodb:getItem": "TableName",
}
_INTEGRATION = re.compile(r"^arn:[\w-]+:states:::([a-z0-9-]+:[A-Za-z]+)(?:\.(sync|sync:2|waitForTaskToken))?$")
_FUNCTION_RESOURCE = re.compile(r"^arn:[\w-]+:lambda:[\w-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$")
_DEFAULT_RETRIER_ATTEMPTS = 3  # ASL: a retrier without MaxAttempts retries three times


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


def _children(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The state machines nested in a state: a Parallel's branches, a Map's ItemProcessor (or its
    older name, Iterator)."""
    children = [branch for branch in state.get("Branches") or [] if isinstance(branch, dict)]
    processor = state.get("ItemProcessor") or state.get("Iterator")
    if isinstance(processor, dict):
        children.append(processor)
    return children


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
        for child in _children(state):
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


def _parsed(definition: str) -> dict[str, Any] | None:
    """The definition as JSON, or None when it is not a JSON object."""
    try:
        parsed = json.loads(definition)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def summarize(definition: str) -> dict[str, Any] | None:
    """Counts over an Amazon States Language definition, nested branches and Map processors included.

    ``UncaughtStates`` counts Task, Parallel and Map states whose errors no Catch handles (neither
    their own nor an enclosing Parallel's or Map's). ``MultiStepPath``: some execution path runs
    more than one step of work (Task states, a Parallel's branches, a Map's items), so a failure
    can leave earlier steps done and something to compensate; with one step per path, failing the
    execution is the whole signal. Returns None when the definition is not JSON.
    """
    parsed = _parsed(definition)
    return None if parsed is None else _summary(parsed)


def _summary(parsed: dict[str, Any]) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    _walk(parsed.get("States") or {}, False, counts)
    summary: dict[str, Any] = {key: counts.get(key, 0) for key in _COUNTS}
    summary["TimeoutSeconds"] = parsed.get("TimeoutSeconds")
    summary["MultiStepPath"] = _path_steps(parsed) > 1
    return summary


def _task_states(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Task state at any depth (Parallel branches, Map processors)."""
    for state in states.values():
        if not isinstance(state, dict):
            continue
        if state.get("Type") == "Task":
            yield state
        for child in _children(state):
            yield from _task_states(child.get("States") or {})


def _static(arguments: Any, key: str) -> Any:
    """``key``'s value in a Task's Parameters (JSONPath) or Arguments (JSONata) when it is written
    in the definition; None when it is computed at run time (``key.$``, a ``{% ... %}`` expression)."""
    if not isinstance(arguments, dict):
        return None  # absent, or the whole Arguments one JSONata expression
    value = arguments.get(key)
    if isinstance(value, str) and value.strip().startswith("{%"):
        return None
    return value


def _targets(integration: str, arguments: Any) -> list[str]:
    """The resources a Task of ``integration`` names in its arguments (static names only)."""
    if integration != "events:putEvents":
        target = _static(arguments, TASK_TARGET_PARAMETERS[integration])
        return [target] if isinstance(target, str) and target else []
    entries = _static(arguments, "Entries")
    buses = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and "EventBusName.$" not in entry:
            bus = _static(entry, "EventBusName")
            buses.append(bus if isinstance(bus, str) and bus else "default")
    return buses


def _attempts(state: dict[str, Any]) -> int:
    """The most times the state runs its call for one input: 1, plus its largest retrier's retries."""
    retries = [r.get("MaxAttempts", _DEFAULT_RETRIER_ATTEMPTS) for r in state.get("Retry") or [] if isinstance(r, dict)]
    return 1 + max((int(n) for n in retries if isinstance(n, int) and n > 0), default=0)


def _task_target(state: dict[str, Any]) -> tuple[str, bool, list[str]] | None:
    """(integration, whether the state waits for the target's work, targets) of a Task state, or
    None for one the graph does not draw (activities, other services, SDK integrations)."""
    resource = str(state.get("Resource") or "")
    arguments = state.get("Parameters") if "Parameters" in state else state.get("Arguments")
    if _FUNCTION_RESOURCE.match(resource):  # the legacy form: the state waits for the function
        return "lambda:invoke", True, [resource]
    found = _INTEGRATION.match(resource)
    if not found or found.group(1) not in TASK_TARGET_PARAMETERS:
        return None
    integration, pattern = found.group(1), found.group(2)
    # .sync and .waitForTaskToken wait for the job or the callback; a request-response Lambda
    # invoke waits for the function's result unless InvocationType is Event; other request-response
    # calls return once the service has the request (the message, the event, the execution).
    waits = bool(pattern) or (integration == "lambda:invoke" and _static(arguments, "InvocationType") != "Event")
    return integration, waits, _targets(integration, arguments)


def task_targets(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources the definition's Task states call, for the workload graph: each
    ``{Integration, Target, Waits, Attempts, States}`` (``Target`` as written: a name, URL or ARN;
    ``Attempts`` the most runs of the call its retriers allow; ``States`` how many states make it).
    Targets computed at run time (``FunctionName.$``, JSONata expressions) are not listed."""
    found: dict[tuple[str, str, bool], list[int]] = {}
    for state in _task_states(parsed.get("States") or {}):
        task = _task_target(state)
        if task is None:
            continue
        integration, waits, targets = task
        for target in targets:
            found.setdefault((integration, target, waits), []).append(_attempts(state))
    return [
        {"Integration": integration, "Target": target, "Waits": waits, "Attempts": max(runs), "States": len(runs)}
        for (integration, target, waits), runs in sorted(found.items())
    ]


def _describe(states: Any, arn: str) -> tuple[dict[str, Any], ClientError | None] | None:
    """DescribeStateMachine, and the error that kept the definition from being read (None: it was
    read); None when the machine is gone. A definition encrypted with a key the audit role may not
    use costs the definition only: the metadata is read again without it."""
    try:
        return states.describe_state_machine(stateMachineArn=arn), None
    except ClientError as exc:
        if error_code(exc) == "StateMachineDoesNotExist":
            return None
        if error_code(exc) not in _KMS_CODES:
            raise
        refused = exc
    try:
        machine = states.describe_state_machine(stateMachineArn=arn, includedData="METADATA_ONLY")
    except ClientError as exc:
        if error_code(exc) == "StateMachineDoesNotExist":
            return None
        raise
    return machine, refused


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every state machine (DescribeStateMachine) with ``DefinitionSummary`` in place of the
    raw definition, plus ``loggingConfiguration``, ``tracingConfiguration`` and ``type``, and, when
    a selected check reads it (the workload graph does), ``TaskTargets`` (see :func:`task_targets`).
    The definition itself is dropped once both are made.

    A machine whose definition cannot be decrypted (customer managed KMS key) is yielded with its
    metadata, no ``DefinitionSummary`` and ``_unavailable: {"DefinitionSummary": why}``: checks of
    its definition cannot judge it, the others do, and the rest of the region is unaffected. Its
    Task edges are unknown too, and with them what the rest of the graph is reached by: when
    ``TaskTargets`` is wanted, the unit records it as a failed join (``ctx.enrichment_failed``), so
    the account's graph checks are UNKNOWN (the unit's coverage gap names ``TaskTargets`` and the KMS
    error) rather than judged on a graph missing that machine's calls.
    """
    states = ctx.client("stepfunctions")
    wants_targets = ctx.wants("TaskTargets")
    for listed in paginate(states, "list_state_machines", "stateMachines", ctx.page_size):
        arn = listed["stateMachineArn"]
        described = _describe(states, arn)
        if described is None:
            continue
        machine, refused = described
        properties = {key: value for key, value in machine.items() if key != "definition"}
        if refused is None:
            parsed = _parsed(machine.get("definition") or "")
            properties["DefinitionSummary"] = None if parsed is None else _summary(parsed)
            if wants_targets:
                properties["TaskTargets"] = None if parsed is None else task_targets(parsed)
        else:
            code = error_code(refused)
            why = f"{code}: the definition is encrypted with a KMS key the audit role cannot decrypt with"
            properties[UNAVAILABLE] = {"DefinitionSummary": why}
            if wants_targets:
                ctx.enrichment_failed("TaskTargets", refused)
        yield document(ctx, RESOURCE_TYPE, arn, machine.get("name") or listed["name"], properties)
