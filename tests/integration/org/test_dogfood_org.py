"""Dogfood in org mode: the stack deployed with OrgMode=true passes relaudit's own audit.

The org function, its state machine and their schedule, alarms and log groups are held to the
same checks as the rest of the stack (reserved concurrency, failure destination, alarms; every
Task retried with backoff, errors caught, an execution timeout, logging on). Deployed into moto as
test_dogfood.py does, with its helpers filling what moto's CloudFormation skips; moto also drops
the state machine's LoggingConfiguration (describe_state_machine says level OFF), so it is set
here through the API from the template's own Logging.
"""

from __future__ import annotations

from typing import Any

import boto3

from relaudit.models.check import Status
from tests.integration.template_support import ORG_MODE, translated
from tests.integration.test_dogfood import (
    _answer_list_protected_resources,
    _as_deployed,
    _deploy,
    _fill_moto_gaps,
    _resolver,
    audit_own_resources,
)

STACK = "relaudit"
REGION = "us-east-1"
PARAMETERS = {"OrgMode": "true", "MemberExternalId": "relaudit-ext-7f3c9a1e"}


def _set_logging(cfn: dict[str, Any], deployed: dict[str, dict[str, str]]) -> None:
    """Give the state machine the logging configuration its template declares (moto drops it)."""
    logging = cfn["Resources"]["OrgStateMachine"]["Properties"]["LoggingConfiguration"]
    group = deployed["OrgStateMachineLogGroup"]["id"]
    boto3.client("stepfunctions", region_name=REGION).update_state_machine(
        stateMachineArn=deployed["OrgStateMachine"]["id"],
        loggingConfiguration={
            "level": logging["Level"],
            "includeExecutionData": logging["IncludeExecutionData"],
            "destinations": [
                {"cloudWatchLogsLogGroup": {"logGroupArn": f"arn:aws:logs:{REGION}:123456789012:log-group:{group}:*"}}
            ],
        },
    )


def test_the_org_mode_stack_passes_its_own_audit(factory: Any) -> None:
    cfn = translated()
    deployed = _deploy(cfn, PARAMETERS)
    assert {"OrgFunction", "OrgStateMachine", "OrgFunctionRole"} <= set(deployed), "OrgMode=true deploys org mode"
    resolver = _resolver(cfn, deployed)
    resolver.values.update(PARAMETERS)
    cfn = _as_deployed(cfn, resolver)
    assert any(r.get("Condition") == ORG_MODE for r in cfn["Resources"].values())
    deployed |= _fill_moto_gaps(cfn, deployed, resolver)
    _set_logging(cfn, deployed)
    _answer_list_protected_resources(factory, cfn, resolver)

    result, own, collected_types = audit_own_resources(factory, deployed)
    failed = [f"{f.check_id} on {f.resource_name}: {f.reason}" for f in own if f.status is Status.FAILED]
    assert not failed, "the org-mode stack fails its own audit:\n" + "\n".join(failed)
    assert not [g for g in result.coverage_gaps if g.resource_type in collected_types]

    passed = {(f.check_id, f.resource_name) for f in own if f.status is Status.PASSED}
    machine = f"{STACK}-org-audit"
    assert {
        ("stepfunctions-state-machine-task-retries", machine),
        ("stepfunctions-state-machine-errors-caught", machine),
        ("stepfunctions-state-machine-retry-backoff", machine),
        ("stepfunctions-state-machine-execution-timeout", machine),
        ("stepfunctions-state-machine-logging-enabled", machine),
        ("lambda-function-reserved-concurrency-set", f"{STACK}-org"),
        ("lambda-function-async-failure-captured", f"{STACK}-org"),
        ("scheduler-schedule-dlq-configured", f"default/{machine}"),
        ("scheduler-schedule-retry-policy-set", f"default/{machine}"),
    } <= passed
