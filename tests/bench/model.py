"""The audit's lower bound (reference §6) and the minimal API calls for a check selection.

Lower bound for one account, regions in parallel:
  T_conc = calls x mean latency / concurrency     (Little's law)
  T_rate = max over (region, bucket) of max(0, calls_b - burst_b) / rate_b
  T_path = max over list calls of (pages + 1) x mean latency   (pages are sequential)
  T_cpu  = calls x CPU per call / one vCPU (a Python process)
  bound  = max(T_conc, T_rate, T_path)                     (the network's bound)
  full   = max(T_conc, T_rate, T_path, T_cpu) + T_cold     (reference §6, T_write aside)

T_cpu uses the reference's estimate of 3 ms a call; T_cold, for a CLI, is the start-up budget
the issue sets (0.5 s from process start to the first call).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from relaudit.ratelimit import buckets_for
from tests.bench.seed import ASG, DB, FUNCTION, HTTP_STAGE, LB, QUEUE, REST_STAGE

CallKey = tuple[str, str, str]  # (region, service, operation)
CPU_PER_CALL = 0.003  # seconds of client CPU per call (reference §6, estimate)
COLD_START = 0.5  # seconds from process start to the first call (the start-up target)

# The list call that starts each unit; its pages are sequential (T_path).
LIST_OPERATIONS = {
    ("lambda", "ListFunctions"),
    ("sqs", "ListQueues"),
    ("rds", "DescribeDBInstances"),
    ("elbv2", "DescribeLoadBalancers"),
    ("autoscaling", "DescribeAutoScalingGroups"),
    ("apigateway", "GetRestApis"),
    ("apigatewayv2", "GetApis"),
}


@dataclass
class Bound:
    """The model's figures for one run."""

    calls: int
    latency: float
    concurrency: int
    t_conc: float
    t_rate: float
    t_path: float
    buckets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """The network's bound: latency, rate buckets and sequential pages."""
        return max(self.t_conc, self.t_rate, self.t_path)

    @property
    def t_cpu(self) -> float:
        """Client CPU at the reference's 3 ms a call, on one vCPU."""
        return self.calls * CPU_PER_CALL

    @property
    def full_seconds(self) -> float:
        """The reference's bound for one account: the network's or CPU's, plus the cold start."""
        return max(self.seconds, self.t_cpu) + COLD_START

    @property
    def binding(self) -> str:
        """Which term sets the bound."""
        terms = {"latency x calls / concurrency": self.t_conc, "rate bucket": self.t_rate, "pages": self.t_path}
        return max(terms, key=lambda name: terms[name])


def lower_bound(calls: dict[CallKey, int], latency: float, concurrency: int) -> Bound:
    """The lower bound for ``calls`` at ``latency`` mean seconds per round trip and ``concurrency``."""
    total = sum(calls.values())
    per_bucket: Counter[tuple[str, str]] = Counter()
    shapes: dict[str, tuple[float, float]] = {}
    for (region, service, operation), count in calls.items():
        for bucket in buckets_for(service, operation):
            per_bucket[(region, bucket.name)] += count
            shapes[bucket.name] = (bucket.rate.per_second, bucket.rate.burst)
    buckets = []
    for (region, name), count in per_bucket.items():
        rate, burst = shapes[name]
        seconds = max(0.0, count - burst) / rate
        buckets.append({"region": region, "bucket": name, "calls": count, "rate": rate, "burst": burst, "s": seconds})
    buckets.sort(key=lambda b: -b["s"])
    pages = [count for (_, service, operation), count in calls.items() if (service, operation) in LIST_OPERATIONS]
    return Bound(
        calls=total,
        latency=latency,
        concurrency=concurrency,
        t_conc=total * latency / concurrency,
        t_rate=buckets[0]["s"] if buckets else 0.0,
        t_path=(max(pages) + 1) * latency if pages else 0.0,
        buckets=buckets[:5],
    )


def _pages(items: int, page: int) -> int:
    return max(1, math.ceil(items / page))


def minimal_calls(fields: dict[str, set[str]], manifest: dict[str, dict[str, Any]]) -> dict[CallKey, int]:
    """The fewest calls that give the selected checks every field they read, per region.

    Args:
        fields: Resource type -> fields its selected checks read (``Plan.needs``).
        manifest: The seeder's manifest per region.

    Each call is counted once even when two collectors need it (ListFunctions, per-function
    event-invoke configs): an auditor that shares them makes no more.
    """
    minimal: dict[CallKey, int] = defaultdict(int)
    for region, info in manifest.items():
        n = info["counts"]
        need = {key: fields.get(key, set()) for key in (FUNCTION, QUEUE, DB, LB, ASG, REST_STAGE, HTTP_STAGE)}
        calls: dict[tuple[str, str], int] = {}
        lambda_list = _pages(n.get(FUNCTION, 0), 50)
        if FUNCTION in fields:
            f = need[FUNCTION]
            calls["lambda", "ListFunctions"] = lambda_list
            if "ReservedConcurrentExecutions" in f:
                calls["lambda", "GetFunction"] = n[FUNCTION]
            if "EventInvokeConfig" in f:
                calls["lambda", "ListFunctionEventInvokeConfigs"] = n[FUNCTION]
            if "Triggers" in f:
                calls["lambda", "GetPolicy"] = n[FUNCTION]
            if "SubnetAvailabilityZones" in f and info["vpc_functions"]:
                calls["ec2", "DescribeSubnets"] = _pages(info["function_subnets"], 200)
            if "Alarms" in f:
                calls["cloudwatch", "DescribeAlarms"] = 1
            if "ThrottlesLast7Days" in f and n[FUNCTION]:
                calls["cloudwatch", "GetMetricData"] = _pages(n[FUNCTION], 500)
        if QUEUE in fields:
            f = need[QUEUE]
            calls["sqs", "ListQueues"] = _pages(n.get(QUEUE, 0), 1000)
            calls["sqs", "GetQueueAttributes"] = n.get(QUEUE, 0)
            if f & {"IsDeadLetterQueue", "DeadLetterSources"}:  # what else sends a queue failures
                calls["lambda", "ListFunctions"] = lambda_list
                calls["lambda", "ListFunctionEventInvokeConfigs"] = n.get(FUNCTION, 0)
                calls["lambda", "ListEventSourceMappings"] = 1
                calls["sns", "ListSubscriptions"] = 1
                calls["events", "ListEventBuses"] = 1
                calls["events", "ListRules"] = 1
            if f & {"ConsumerFunctions", "ConsumerTimeoutMultiple"}:
                calls["lambda", "ListFunctions"] = lambda_list
                calls["lambda", "ListEventSourceMappings"] = 1
            if "Alarms" in f:
                calls["cloudwatch", "DescribeAlarms"] = 1
        if DB in fields:
            calls["rds", "DescribeDBInstances"] = _pages(n.get(DB, 0), 100)
            if "AwsBackup" in need[DB] and n.get(DB):
                calls["backup", "ListProtectedResources"] = 1
        if LB in fields:
            calls["elbv2", "DescribeLoadBalancers"] = _pages(n.get(LB, 0), 400)
            if "Attributes" in need[LB]:
                calls["elbv2", "DescribeLoadBalancerAttributes"] = n.get(LB, 0)
        if ASG in fields:
            calls["autoscaling", "DescribeAutoScalingGroups"] = _pages(n.get(ASG, 0), 100)
        if REST_STAGE in fields:
            f = need[REST_STAGE]
            apis = info["rest_apis"]
            calls["apigateway", "GetRestApis"] = _pages(apis, 500)
            if apis:
                calls["apigateway", "GetStages"] = apis
                if "UsagePlans" in f:
                    calls["apigateway", "GetUsagePlans"] = 1
                if f & {"Methods", "LambdaIntegrations"}:
                    calls["apigateway", "GetResources"] = apis
        if HTTP_STAGE in fields:
            f = need[HTTP_STAGE]
            apis = info["http_apis"]
            calls["apigatewayv2", "GetApis"] = _pages(apis, 500)
            if apis:
                calls["apigatewayv2", "GetStages"] = apis
                if "Routes" in f:
                    calls["apigatewayv2", "GetRoutes"] = apis
                if "LambdaIntegrations" in f:
                    calls["apigatewayv2", "GetIntegrations"] = apis
        for (service, operation), count in calls.items():
            minimal[(region, service, operation)] += count
    return dict(minimal)


# Every operation minimal_calls can count (sts: the plan's GetCallerIdentity).
MODELED_OPERATIONS = frozenset(
    {
        *LIST_OPERATIONS,
        ("sts", "GetCallerIdentity"),
        ("lambda", "GetFunction"),
        ("lambda", "ListFunctionEventInvokeConfigs"),
        ("lambda", "GetPolicy"),
        ("lambda", "ListEventSourceMappings"),
        ("ec2", "DescribeSubnets"),
        ("cloudwatch", "DescribeAlarms"),
        ("cloudwatch", "GetMetricData"),
        ("sqs", "GetQueueAttributes"),
        ("sns", "ListSubscriptions"),
        ("events", "ListEventBuses"),
        ("events", "ListRules"),
        ("backup", "ListProtectedResources"),
        ("elbv2", "DescribeLoadBalancerAttributes"),
        ("apigateway", "GetStages"),
        ("apigateway", "GetUsagePlans"),
        ("apigateway", "GetResources"),
        ("apigatewayv2", "GetStages"),
        ("apigatewayv2", "GetRoutes"),
        ("apigatewayv2", "GetIntegrations"),
    }
)
