"""Acceptance: the deployed stack, found through AWS_SAM_STACK_NAME (opt-in: `make test-acceptance`).

Needs real AWS credentials for the account the stack is deployed in; never part of `make test`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest

from tests.conftest import load_event

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(not os.environ.get("AWS_SAM_STACK_NAME"), reason="set AWS_SAM_STACK_NAME to a deployed stack"),
]


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName=os.environ["AWS_SAM_STACK_NAME"])["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def invoke(function: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = boto3.client("lambda").invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    assert "FunctionError" not in response, response
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


def test_on_demand_one_region_two_checks(outputs: dict[str, str]) -> None:
    event = load_event("on-demand-one-check")
    event["regions"] = [boto3.session.Session().region_name or "us-east-1"]
    result = invoke(outputs["AuditFunctionName"], event)
    assert result["status"] in ("complete", "partial"), result
    assert result["summary"]["checks"] == 2


def test_bad_request_is_a_structured_error(outputs: dict[str, str]) -> None:
    result = invoke(outputs["AuditFunctionName"], {"regions": ["us-nowhere-1"]})
    assert result == {"status": "error", "error": {"field": "regions", "message": result["error"]["message"]}}
    assert "us-nowhere-1" in result["error"]["message"]
