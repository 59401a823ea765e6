"""The benchmark's model: minimal calls count each shared call once, and know every operation they use."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench.model import MODELED_OPERATIONS, lower_bound, minimal_calls
from tests.bench.seed import ASG, DB, FUNCTION, HTTP_STAGE, LB, QUEUE, REST_STAGE

EVERYTHING = {
    FUNCTION: {"ReservedConcurrentExecutions", "EventInvokeConfig", "Triggers", "Alarms", "ThrottlesLast7Days"},
    QUEUE: {"IsDeadLetterQueue", "ConsumerFunctions", "Alarms"},
    DB: {"AwsBackup"},
    LB: {"Attributes"},
    ASG: set(),
    REST_STAGE: {"UsagePlans", "Methods"},
    HTTP_STAGE: {"Routes", "LambdaIntegrations"},
}


def manifest(functions: int = 120, queues: int = 30) -> dict[str, Any]:
    counts = {FUNCTION: functions, QUEUE: queues, DB: 5, LB: 4, ASG: 3, REST_STAGE: 4, HTTP_STAGE: 4}
    info = {"counts": counts, "vpc_functions": 10, "function_subnets": 3, "rest_apis": 2, "http_apis": 2}
    return {"us-east-1": info}


def test_every_operation_the_model_counts_is_a_modeled_operation() -> None:
    calls = minimal_calls(EVERYTHING, manifest())
    assert {(service, operation) for _, service, operation in calls} <= MODELED_OPERATIONS


def test_calls_two_types_need_are_counted_once() -> None:
    """The Lambda collector and the SQS dead-letter join both read every function's invoke configs."""
    both = minimal_calls({FUNCTION: {"EventInvokeConfig"}, QUEUE: {"IsDeadLetterQueue"}}, manifest(functions=120))
    assert both[("us-east-1", "lambda", "ListFunctionEventInvokeConfigs")] == 120
    assert both[("us-east-1", "lambda", "ListFunctions")] == 3  # 50 a page


def test_the_lambda_bucket_binds_a_function_heavy_account() -> None:
    calls = minimal_calls({FUNCTION: {"EventInvokeConfig"}}, manifest(functions=1500))
    bound = lower_bound(calls, latency=0.035, concurrency=32)
    assert bound.binding == "rate bucket"
    assert bound.buckets[0]["bucket"] == "lambda:control-plane"
    assert round(bound.seconds, 1) == round((1500 + 30 - 15) / 15, 1)


def test_the_full_bound_adds_cpu_and_the_cold_start_for_small_selections() -> None:
    """A latency-bound selection's network bound is tenths of a second; the reference's bound adds
    client CPU (3 ms a call on one vCPU) when it is larger, and the 0.5 s start-up."""
    calls = minimal_calls({FUNCTION: {"ReservedConcurrentExecutions"}}, manifest(functions=120))
    bound = lower_bound(calls, latency=0.035, concurrency=32)
    assert bound.seconds < bound.t_cpu
    assert bound.full_seconds == pytest.approx(bound.t_cpu + 0.5)
