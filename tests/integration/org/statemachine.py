"""Run template.yaml's org state machine offline: the ASL it declares, step by step, against local callables.

Neither moto nor a container runs Step Functions here, so this small interpreter walks the very
definition the stack deploys (read from template.yaml, substitutions applied): Task states that
invoke the org function or put a DynamoDB item, Fail states, and the Distributed Map, with the
data flow AWS applies (Parameters/ItemSelector with ``.$`` paths, ``$$`` context and
``States.Format``; ResultSelector, ResultPath, OutputPath; Catch). Retries are not simulated (a
caught error is one that failed every retry); MaxConcurrencyPath is read, items run one by one;
ToleratedFailurePercentagePath is applied as AWS does (the Map fails past it).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.integration.template_support import sam_template

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:relaudit-org"
_FORMAT = re.compile(r"^States\.Format\('((?:[^'\\]|\\.)*)'((?:\s*,\s*[^,]+)*)\)$")


def definition(table: str) -> dict[str, Any]:
    """The org state machine's definition from template.yaml, its substitutions applied."""
    machine = sam_template()["Resources"]["OrgStateMachine"]["Properties"]
    text = json.dumps(machine["Definition"])
    substitutions = {"OrgFunctionArn": FUNCTION_ARN, "FindingsTableName": table}
    assert set(machine["DefinitionSubstitutions"]) == set(substitutions)
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    assert "${" not in text, "an unsubstituted placeholder is left in the definition"
    parsed: dict[str, Any] = json.loads(text)
    return parsed


class StatesError(Exception):
    """An error as Step Functions names it (``Error``) with its ``Cause``."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


def path(expression: str, data: Any, context: dict[str, Any]) -> Any:
    """A reference path: ``$``, ``$.a.b`` or ``$$.a.b`` (a missing key is States.Runtime, as in AWS)."""
    root, rest = (context, expression[2:]) if expression.startswith("$$") else (data, expression[1:])
    value = root
    for key in [k for k in rest.split(".") if k]:
        if not isinstance(value, dict) or key not in value:
            raise StatesError("States.Runtime", f"path {expression} not found")
        value = value[key]
    return value


def _intrinsic(expression: str, data: Any, context: dict[str, Any]) -> Any:
    match = _FORMAT.match(expression)
    if match is None:
        raise AssertionError(f"intrinsic not simulated: {expression}")
    template, args = match.group(1), [a.strip() for a in match.group(2).split(",") if a.strip()]
    values = [path(arg, data, context) for arg in args]
    assert template.count("{}") == len(values), expression
    for value in values:
        template = template.replace("{}", value if isinstance(value, str) else json.dumps(value), 1)
    return template


def resolve(template: Any, data: Any, context: dict[str, Any]) -> Any:
    """Parameters / ItemSelector / ResultSelector: ``key.$`` entries evaluated against ``data``."""
    if isinstance(template, list):
        return [resolve(item, data, context) for item in template]
    if not isinstance(template, dict):
        return template
    out: dict[str, Any] = {}
    for key, value in template.items():
        if key.endswith(".$"):
            evaluate = _intrinsic if value.startswith("States.") else path
            out[key[:-2]] = evaluate(value, data, context)
        else:
            out[key] = resolve(value, data, context)
    return out


def _set(data: Any, result_path: str | None, result: Any) -> Any:
    if result_path is None:
        return data
    if result_path == "$":
        return result
    updated = copy.deepcopy(data)
    target = updated
    keys = result_path[2:].split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = result
    return updated


@dataclass
class Execution:
    """One execution: the callables standing for Lambda and DynamoDB, and what happened."""

    invoke: Callable[[dict[str, Any]], Any]  # the org function, given its payload
    put_item: Callable[[str, dict[str, Any]], None]  # dynamodb:putItem (table, item)
    execution_id: str = "arn:aws:states:us-east-1:123456789012:execution:relaudit-org-audit:test-1"
    start_time: str = "2026-01-15T06:00:00.123Z"
    payloads: dict[str, list[Any]] = field(default_factory=dict)  # state name -> payloads sent
    map_settings: dict[str, Any] = field(default_factory=dict)

    def run(self, machine: dict[str, Any], execution_input: Any) -> Any:
        """Run from StartAt to an end; raises StatesError when the execution fails."""
        context = {"Execution": {"Id": self.execution_id, "StartTime": self.start_time}}
        return self._states(machine["StartAt"], machine["States"], execution_input, context)

    def _states(self, name: str, states: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        while True:
            state = states[name]
            try:
                data = self._state(name, state, data, context)
            except StatesError as exc:
                handler = next(
                    (c for c in state.get("Catch", []) if {"States.ALL", exc.error} & set(c["ErrorEquals"])), None
                )
                if handler is None:
                    raise
                data = _set(data, handler.get("ResultPath", "$"), {"Error": exc.error, "Cause": exc.cause})
                name = handler["Next"]
                continue
            if state.get("End") or state["Type"] == "Succeed":
                return data
            name = state["Next"]

    def _state(self, name: str, state: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        kind = state["Type"]
        if kind == "Fail":
            raise StatesError(state["Error"], state.get("Cause", ""))
        if kind == "Map":
            result = self._map(state, data, context)
        elif kind == "Task":
            result = self._task(name, state, data, context)
        else:
            raise AssertionError(f"state type not simulated: {kind}")
        data = _set(data, state.get("ResultPath", "$"), result)
        return path(state["OutputPath"], data, context) if "OutputPath" in state else data

    def _task(self, name: str, state: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        parameters = resolve(state["Parameters"], data, context)
        resource = state["Resource"]
        if resource == "arn:aws:states:::lambda:invoke":
            assert parameters["FunctionName"] == FUNCTION_ARN
            payload = json.loads(json.dumps(parameters["Payload"]))  # what goes over the wire
            self.payloads.setdefault(name, []).append(payload)
            try:
                answer = self.invoke(payload)
            except Exception as exc:  # a Lambda function error: Error is its type, Cause its JSON
                cause = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__})
                raise StatesError(type(exc).__name__, cause) from exc
            result: Any = {"Payload": json.loads(json.dumps(answer)), "StatusCode": 200}
        elif resource == "arn:aws:states:::dynamodb:putItem":
            self.payloads.setdefault(name, []).append(parameters)
            self.put_item(parameters["TableName"], parameters["Item"])
            result = {}
        else:
            raise AssertionError(f"resource not simulated: {resource}")
        return resolve(state["ResultSelector"], result, context) if "ResultSelector" in state else result

    def _map(self, state: dict[str, Any], data: Any, context: dict[str, Any]) -> Any:
        assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
        self.map_settings = {
            "max_concurrency": path(state["MaxConcurrencyPath"], data, context),
            "tolerated_failure_percentage": path(state["ToleratedFailurePercentagePath"], data, context),
        }
        items = path(state["ItemsPath"], data, context)
        processor = state["ItemProcessor"]
        results, failures = [], 0
        for index, item in enumerate(items):
            item_context = {**context, "Map": {"Item": {"Index": index, "Value": item}}}
            child_input = resolve(state["ItemSelector"], data, item_context)
            try:
                results.append(self._states(processor["StartAt"], processor["States"], child_input, item_context))
            except StatesError:
                failures += 1  # a failed child execution
        tolerated = self.map_settings["tolerated_failure_percentage"]
        if items and failures * 100 / len(items) > tolerated:
            raise StatesError("States.ExceedToleratedFailureThreshold", f"{failures} of {len(items)} items failed")
        return results
