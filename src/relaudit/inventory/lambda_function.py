"""Collector for AWS::Lambda::Function, enriched with concurrency, async config, triggers, alarms and subnet AZs."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import TYPE_CHECKING, Any

from relaudit.inventory import alarm_index, listings
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.joins import guarded
from relaudit.inventory.lookups import subnet_zones

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::Lambda::Function"
IAM_ACTIONS = frozenset(
    {
        *listings.FUNCTION_ACTIONS,
        *listings.INVOKE_CONFIG_ACTIONS,
        *listings.CONCURRENCY_ACTIONS,
        "lambda:GetPolicy",
        "ec2:DescribeSubnets",
        "cloudwatch:GetMetricData",
        *alarm_index.IAM_ACTIONS,
    }
)
_METRIC_QUERIES_MAX = 500  # GetMetricData's limit per request
_THROTTLE_DAYS = 7
# Services that invoke a function asynchronously (event invoke config, DLQ and destinations apply).
ASYNC_PRINCIPALS = frozenset(
    {
        "s3.amazonaws.com",
        "sns.amazonaws.com",
        "events.amazonaws.com",
        "ses.amazonaws.com",
        "iot.amazonaws.com",
        "logs.amazonaws.com",
        "codecommit.amazonaws.com",
        "config.amazonaws.com",
        "lambda.alarms.cloudwatch.amazonaws.com",
    }
)
# Request paths where a client waits for the function (API Gateway, ALB, VPC Lattice, function URLs).
API_PRINCIPALS = frozenset(
    {"apigateway.amazonaws.com", "elasticloadbalancing.amazonaws.com", "vpc-lattice.amazonaws.com", "function-url"}
)
_ALARMED_METRICS = ("Errors", "Throttles")


def _principals(statement: dict[str, Any]) -> set[str]:
    actions = statement.get("Action")
    actions = actions if isinstance(actions, list) else [actions]
    if any(str(action).lower() == "lambda:invokefunctionurl" for action in actions):
        return {"function-url"}
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        services = principal.get("Service")
        return set(services if isinstance(services, list) else [services]) - {None}
    return set()


def triggers(ctx: CollectorContext, function_arn: str) -> dict[str, Any]:
    """Who may invoke the function, read from its resource-based policy (GetPolicy).

    Returns ``{Principals, Async, Api}``: the service principals allowed (``function-url`` for a
    function URL), whether one invokes asynchronously, and whether one is a synchronous request path.
    """
    response: dict[str, Any] | None = listings.not_found_is_none(
        ctx.client("lambda").get_policy, FunctionName=function_arn
    )
    statements: list[Any] = []
    if response:
        try:
            statements = json.loads(response.get("Policy") or "{}").get("Statement") or []
        except ValueError:
            statements = []
    principals: set[str] = set()
    for statement in statements:
        if isinstance(statement, dict) and statement.get("Effect") == "Allow":
            principals |= _principals(statement)
    return {
        "Principals": sorted(principals),
        "Async": bool(principals & ASYNC_PRINCIPALS),
        "Api": bool(principals & API_PRINCIPALS),
    }


def _throttles(ctx: CollectorContext, names: list[str]) -> dict[str, float]:
    """Sum of each function's Throttles metric over the last week, 500 functions per GetMetricData."""
    cloudwatch = ctx.client("cloudwatch")
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=_THROTTLE_DAYS)
    totals: dict[str, float] = dict.fromkeys(names, 0.0)
    for offset in range(0, len(names), _METRIC_QUERIES_MAX):
        chunk = names[offset : offset + _METRIC_QUERIES_MAX]
        queries = [
            {
                "Id": f"f{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Throttles",
                        "Dimensions": [{"Name": "FunctionName", "Value": name}],
                    },
                    "Period": 86400,
                    "Stat": "Sum",
                },
            }
            for index, name in enumerate(chunk)
        ]
        for result in paginate(
            cloudwatch,
            "get_metric_data",
            "MetricDataResults",
            None,
            MetricDataQueries=queries,
            StartTime=start,
            EndTime=end,
        ):
            name = chunk[int(result["Id"][1:])]
            totals[name] += sum(result.get("Values") or [])
    return totals


def _with_zones(function: dict[str, Any], zones: dict[str, str]) -> dict[str, Any]:
    vpc = function["VpcConfig"]
    subnets = vpc.get("SubnetIds") or []
    return {**vpc, "SubnetAvailabilityZones": [zones[s] for s in subnets if s in zones]}


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every function, with enrichments each fetched only when a selected check reads it.

    - ``ReservedConcurrentExecutions`` (GetFunction: Lambda's 100 requests/s bucket, where
      GetFunctionConcurrency shares the 15/s control-plane bucket);
    - ``EventInvokeConfig`` (async retries, event age, destinations; null when none is set);
    - ``Triggers`` ``{Principals, Async, Api}`` from the resource-based policy;
    - ``Alarms`` ``{Errors: [...], Throttles: [...]}``: metric alarms on the function's
      FunctionName dimension (DescribeAlarms once per region), each ``{AlarmName, Actionable}``;
    - ``ThrottlesLast7Days``: the Throttles metric summed over seven days;
    - ``VpcConfig.SubnetAvailabilityZones``.

    Triggers, alarms and throttles are optional joins: when AWS refuses one, the field is left out
    and the unit reported incomplete (see ``joins.guarded``).
    """
    functions = listings.functions(ctx)
    refused = threading.Event()  # one refusal of GetPolicy is enough: do not ask for every function

    def fetch(function: dict[str, Any]) -> dict[str, Any]:
        arn = function["FunctionArn"]
        properties = dict(function)
        if ctx.wants("ReservedConcurrentExecutions"):
            properties["ReservedConcurrentExecutions"] = listings.reserved_concurrency(ctx, arn)
        if ctx.wants("EventInvokeConfig"):
            properties["EventInvokeConfig"] = listings.unqualified_config(listings.event_invoke_configs(ctx, arn), arn)
        if ctx.wants("Triggers") and not refused.is_set():
            found = guarded(ctx, "Triggers", triggers, ctx, arn)
            if found is None:
                refused.set()
            else:
                properties["Triggers"] = found
        return properties

    # The per-function calls (rate-bound: Lambda's 15/s buckets) first; the region-wide joins
    # after them, so the slowest chain of the audit starts as soon as the functions are listed.
    fetched = list(ctx.map(fetch, functions))
    subnet_ids = {s for fn in functions for s in (fn.get("VpcConfig") or {}).get("SubnetIds") or []}
    zones = subnet_zones(ctx, subnet_ids) if subnet_ids and ctx.wants("SubnetAvailabilityZones") else {}
    alarms = guarded(ctx, "Alarms", alarm_index.load_alarms, ctx) if functions and ctx.wants("Alarms") else None
    throttles = (
        guarded(ctx, "ThrottlesLast7Days", _throttles, ctx, [fn["FunctionName"] for fn in functions])
        if functions and ctx.wants("ThrottlesLast7Days")
        else None
    )
    for function, properties in zip(functions, fetched, strict=True):
        name = function["FunctionName"]
        if alarms is not None:
            properties["Alarms"] = {
                metric: alarms.find("AWS/Lambda", metric, "FunctionName", name) for metric in _ALARMED_METRICS
            }
        if throttles is not None:
            properties["ThrottlesLast7Days"] = throttles[name]
        if function.get("VpcConfig") and ctx.wants("SubnetAvailabilityZones"):
            properties["VpcConfig"] = _with_zones(function, zones)
        yield document(ctx, RESOURCE_TYPE, function["FunctionArn"], name, properties)
