"""Collector for AWS::Lambda::Function, enriched with concurrency, async config, triggers, alarms and subnet AZs."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import TYPE_CHECKING, Any

from relaudit.inventory import alarm_index, listings, shapes
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
        *listings.MAPPING_ACTIONS,
        "lambda:GetPolicy",
        "lambda:ListAliases",
        "scheduler:ListSchedules",
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
        "scheduler.amazonaws.com",  # not in a policy: Scheduler invokes through a role (see _scheduled)
    }
)
SCHEDULER = "scheduler.amazonaws.com"
_INACTIVE_MAPPING_STATES = frozenset({"Disabled", "Disabling", "Deleting"})
# Request paths where a client waits for the function (API Gateway, ALB, VPC Lattice, function URLs).
API_PRINCIPALS = frozenset(
    {"apigateway.amazonaws.com", "elasticloadbalancing.amazonaws.com", "vpc-lattice.amazonaws.com", "function-url"}
)
_ALARMED_METRICS = ("Errors", "Throttles")
DOCUMENT = shapes.fields(
    shapes.Api("lambda", "ListFunctions", "Functions[]", ("FunctionArn", "FunctionName", "VpcConfig.SubnetIds")),
    ReservedConcurrentExecutions=shapes.ANY,
    EventInvokeConfig=shapes.Api(
        "lambda",
        "ListFunctionEventInvokeConfigs",
        "FunctionEventInvokeConfigs[]",
        ("FunctionArn", "DestinationConfig.OnFailure.Destination"),
    ),
    Triggers=shapes.fields(Principals=shapes.ANY, Async=shapes.ANY, Api=shapes.ANY, Qualifier=shapes.ANY),
    EventSourceMappings=shapes.ListOf(
        shapes.fields(
            shapes.Api(
                "lambda",
                "ListEventSourceMappings",
                "EventSourceMappings[]",
                ("UUID", "EventSourceArn", "FunctionArn", "State", "ScalingConfig"),
            ),
            SourceKind=shapes.ANY,
            Active=shapes.ANY,
        )
    ),
    Alarms=shapes.fields(Errors=shapes.ALARMS, Throttles=shapes.ALARMS),
    ThrottlesLast7Days=shapes.ANY,
    VpcConfig=shapes.fields(
        shapes.Api("lambda", "ListFunctions", "Functions[].VpcConfig"), SubnetAvailabilityZones=shapes.ZONES
    ),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("lambda", "GetFunction", "", ("Concurrency.ReservedConcurrentExecutions",)),
    shapes.Api("lambda", "GetPolicy", "", ("Policy",)),
    shapes.Api("lambda", "ListAliases", "Aliases[]", ("Name",)),
    shapes.Api("scheduler", "ListSchedules", "Schedules[]", ("State", "Target.Arn")),
    shapes.Api("cloudwatch", "GetMetricData", "MetricDataResults[]", ("Id", "Values")),
    alarm_index.READS,
    shapes.Api("ec2", "DescribeSubnets", "Subnets[]", ("SubnetId", "AvailabilityZone")),
)


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


def _policy_principals(ctx: CollectorContext, function_arn: str, qualifier: str | None) -> set[str]:
    """The principals one qualifier's resource-based policy allows (GetPolicy; none when it has none)."""
    kwargs = {"FunctionName": function_arn, **({"Qualifier": qualifier} if qualifier else {})}
    response: dict[str, Any] | None = listings.not_found_is_none(ctx.client("lambda").get_policy, **kwargs)
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
    return principals


def _aliases(ctx: CollectorContext, function_arn: str) -> list[str]:
    lam = ctx.client("lambda")
    # The function's name (as good as its ARN within its own region): moto 5.2's ListAliases
    # cannot find a function by ARN.
    name = function_arn.split(":")[6]
    found = listings.not_found_is_none(
        lambda: [alias["Name"] for alias in paginate(lam, "list_aliases", "Aliases", None, FunctionName=name)]
    )
    return found or []


def _scheduled(ctx: CollectorContext) -> dict[str, set[str | None]]:
    """Function ARN -> the qualifiers enabled EventBridge Scheduler schedules invoke (ListSchedules;
    None: unqualified). Scheduler calls Invoke with its execution role, so no resource-based
    policy shows it; universal (``aws-sdk``) targets name no function ARN and are not seen."""

    def load() -> dict[str, set[str | None]]:
        targets: dict[str, set[str | None]] = {}
        for schedule in listings.schedules(ctx):
            arn = str((schedule.get("Target") or {}).get("Arn") or "")
            if schedule.get("State") == "ENABLED" and arn.split(":")[2:3] == ["lambda"]:
                targets.setdefault(":".join(arn.split(":")[:7]), set()).add(listings.qualifier_of(arn))
        return targets

    return ctx.shared(("lambda", "scheduled-functions"), load)


def triggers(ctx: CollectorContext, function_arn: str, configs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Who may invoke the function, and which qualifier their traffic reaches.

    Reads the resource-based policy (GetPolicy) of the function and of each alias (ListAliases)
    and each qualifier with an event invoke config in ``configs``: SAM's ``AutoPublishAlias``
    grants the invokers on the alias, not the function. Enabled Scheduler schedules count as an
    asynchronous invoker (``scheduler.amazonaws.com``). Returns ``{Principals, Async, Api,
    Qualifier}``: the principals allowed on any qualifier (``function-url`` for a function URL),
    whether one invokes asynchronously, whether one is a synchronous request path, and the
    qualifier their traffic reaches (null: the function itself, or nobody is allowed at all;
    when only aliases are invoked, the alias async invokers reach, else the first by name).
    """
    config_qualifiers = {listings.qualifier_of(c.get("FunctionArn") or "") for c in configs or []}
    qualifiers = sorted({*_aliases(ctx, function_arn), *(q for q in config_qualifiers if q is not None)})
    allowed: dict[str | None, set[str]] = {None: _policy_principals(ctx, function_arn, None)}
    for alias in qualifiers:
        allowed[alias] = _policy_principals(ctx, function_arn, alias)
    for qualifier in _scheduled(ctx).get(function_arn, set()):
        allowed.setdefault(qualifier, set()).add(SCHEDULER)
    principals = set().union(*allowed.values())
    invoked = sorted(
        (q for q in allowed if q is not None and allowed[q]), key=lambda q: (not allowed[q] & ASYNC_PRINCIPALS, q)
    )  # async-invoked aliases first: the event invoke config is judged on the alias they reach
    return {
        "Principals": sorted(principals),
        "Async": bool(principals & ASYNC_PRINCIPALS),
        "Api": bool(principals & API_PRINCIPALS),
        "Qualifier": None if allowed[None] or not invoked else invoked[0],
    }


def _mappings_by_function(ctx: CollectorContext) -> dict[str, list[dict[str, Any]]]:
    """Function ARN -> its event source mappings (any qualifier), with ``SourceKind`` and ``Active``."""
    found: dict[str, list[dict[str, Any]]] = {}
    for mapping in listings.event_source_mappings(ctx):
        arn = ":".join(str(mapping.get("FunctionArn") or "").split(":")[:7])
        found.setdefault(arn, []).append(
            {
                "UUID": mapping.get("UUID"),
                "EventSourceArn": mapping.get("EventSourceArn"),
                "SourceKind": listings.source_kind(mapping),
                "State": mapping.get("State"),
                "Active": mapping.get("State") not in _INACTIVE_MAPPING_STATES,
                "ScalingConfig": mapping.get("ScalingConfig"),
            }
        )
    return found


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
    - ``Triggers`` ``{Principals, Async, Api, Qualifier}`` from the resource-based policies of the
      function and its aliases, and Scheduler schedules (see :func:`triggers`);
    - ``EventInvokeConfig`` (async retries, event age, destinations; null when none is set) of the
      qualifier invokers reach (``Triggers.Qualifier``: a SAM ``AutoPublishAlias`` alias), else
      of the function itself;
    - ``EventSourceMappings``: the mappings that invoke it, each ``{UUID, EventSourceArn,
      SourceKind, State, Active, ScalingConfig}``;
    - ``Alarms`` ``{Errors: [...], Throttles: [...]}``: metric alarms on the function's
      FunctionName dimension (DescribeAlarms once per region), each ``{AlarmName, Actionable}``;
    - ``ThrottlesLast7Days``: the Throttles metric summed over seven days;
    - ``VpcConfig.SubnetAvailabilityZones``.

    Triggers, mappings, alarms and throttles are optional joins: when AWS refuses one, the field is left out
    and the unit reported incomplete (see ``joins.guarded``).
    """
    functions = listings.functions(ctx)
    refused = threading.Event()  # one refusal of GetPolicy is enough: do not ask for every function

    def fetch(function: dict[str, Any]) -> dict[str, Any]:
        arn = function["FunctionArn"]
        properties = dict(function)
        if ctx.wants("ReservedConcurrentExecutions"):
            properties["ReservedConcurrentExecutions"] = listings.reserved_concurrency(ctx, arn)
        configs = listings.event_invoke_configs(ctx, arn) if ctx.wants("EventInvokeConfig") else None
        found = None
        if ctx.wants("Triggers") and not refused.is_set():
            found = guarded(ctx, "Triggers", triggers, ctx, arn, configs)
            if found is None:
                refused.set()
            else:
                properties["Triggers"] = found
        if configs is not None:
            properties["EventInvokeConfig"] = listings.config_for(configs, arn, (found or {}).get("Qualifier"))
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
    mappings = (
        guarded(ctx, "EventSourceMappings", _mappings_by_function, ctx)
        if functions and ctx.wants("EventSourceMappings")
        else None
    )
    for function, properties in zip(functions, fetched, strict=True):
        name = function["FunctionName"]
        if mappings is not None:
            properties["EventSourceMappings"] = mappings.get(function["FunctionArn"], [])
        if alarms is not None:
            properties["Alarms"] = {
                metric: alarms.find("AWS/Lambda", metric, "FunctionName", name) for metric in _ALARMED_METRICS
            }
        if throttles is not None:
            properties["ThrottlesLast7Days"] = throttles[name]
        if function.get("VpcConfig") and ctx.wants("SubnetAvailabilityZones"):
            properties["VpcConfig"] = _with_zones(function, zones)
        yield document(ctx, RESOURCE_TYPE, function["FunctionArn"], name, properties)
