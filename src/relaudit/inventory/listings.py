"""Lookups several collectors read, made once per (account, region) through ``ctx.shared``.

Every function here returns what AWS lists, unchanged and shared with other collectors:
callers copy before they add a field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from relaudit.aws import error_code
from relaudit.inventory.base import paginate, typed_attributes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from relaudit.inventory.base import CollectorContext

T = TypeVar("T")

FUNCTION_ACTIONS = frozenset({"lambda:ListFunctions"})
MAPPING_ACTIONS = frozenset({"lambda:ListEventSourceMappings"})
INVOKE_CONFIG_ACTIONS = frozenset({"lambda:ListFunctionEventInvokeConfigs"})
CONCURRENCY_ACTIONS = frozenset({"lambda:GetFunction"})
SCHEDULE_ACTIONS = frozenset({"scheduler:ListSchedules", "scheduler:GetSchedule"})
SUBSCRIPTION_ACTIONS = frozenset({"sns:ListSubscriptions", "sns:GetSubscriptionAttributes"})
RULE_ACTIONS = frozenset({"events:ListEventBuses", "events:ListRules", "events:ListTargetsByRule"})
_SUBSCRIPTION_JSON = ("RedrivePolicy", "FilterPolicy", "DeliveryPolicy", "EffectiveDeliveryPolicy")
_SUBSCRIPTION_GONE = {"NotFound", "NotFoundException", "ResourceNotFoundException"}
# An event source mapping's source by its ARN's service (Amazon DocumentDB is "rds").
_SOURCE_KINDS = {
    "sqs": "sqs",
    "kinesis": "kinesis",
    "dynamodb": "dynamodb",
    "kafka": "kafka",
    "mq": "mq",
    "rds": "docdb",
}
_BUS_PAGE = 100  # ListEventBuses' largest page; it has no botocore paginator


def not_found_is_none(call: Callable[..., T], **kwargs: Any) -> T | None:
    """``call(**kwargs)``, or None when the function it names is gone (ResourceNotFoundException)."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def listed(
    ctx: CollectorContext, service: str, operation: str, key: str, page_size: int | None = None, **kwargs: str
) -> list[dict[str, Any]]:
    """Every item under ``key`` of a paginated ``operation``, listed once per run for the region
    (``page_size`` default: ``ctx.page_size``; ``kwargs`` are the call's parameters)."""
    client = ctx.client(service)
    size = page_size or ctx.page_size
    return ctx.shared(
        (service, operation, *sorted(kwargs.items())),
        lambda: list(paginate(client, operation, key, size, **kwargs)),
    )


def functions(ctx: CollectorContext) -> list[dict[str, Any]]:
    """Every Lambda function of the region (ListFunctions)."""
    return listed(ctx, "lambda", "list_functions", "Functions")


def event_source_mappings(ctx: CollectorContext) -> list[dict[str, Any]]:
    """Every event source mapping of the region (ListEventSourceMappings)."""
    return listed(ctx, "lambda", "list_event_source_mappings", "EventSourceMappings")


def event_invoke_configs(ctx: CollectorContext, function_arn: str) -> list[dict[str, Any]]:
    """A function's asynchronous invocation configs, one per qualifier (ListFunctionEventInvokeConfigs).

    One call serves both the function's own ``EventInvokeConfig`` and the dead-letter join of
    the queues its on-failure destinations name; GetFunctionEventInvokeConfig would cost the
    same call on the same 15/s bucket and serve only the first.
    """
    lam = ctx.client("lambda")

    def load() -> list[dict[str, Any]]:
        found = not_found_is_none(
            lambda: list(
                paginate(
                    lam,
                    "list_function_event_invoke_configs",
                    "FunctionEventInvokeConfigs",
                    None,
                    FunctionName=function_arn,
                )
            )
        )
        return found or []  # none when deleted since ListFunctions

    return ctx.shared(("lambda", "event-invoke-configs", function_arn), load)


def reserved_concurrency(ctx: CollectorContext, function_arn: str) -> int | None:
    """A function's reserved concurrency, None when unset or the function is gone.

    GetFunction rather than GetFunctionConcurrency: the same answer from Lambda's 100/s
    GetFunction bucket instead of the 15/s control-plane bucket every other Lambda call shares.
    """
    lam = ctx.client("lambda")

    def load() -> int | None:
        response = not_found_is_none(lam.get_function, FunctionName=function_arn) or {}
        reserved: int | None = (response.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        return reserved

    return ctx.shared(("lambda", "reserved-concurrency", function_arn), load)


def unqualified_config(configs: list[dict[str, Any]], function_arn: str) -> dict[str, Any] | None:
    """The config of the unqualified function (``$LATEST``), as GetFunctionEventInvokeConfig returns it."""
    for config in configs:
        arn = config.get("FunctionArn") or ""
        if arn in (function_arn, f"{function_arn}:$LATEST"):
            return config
    return None


def qualifier_of(function_arn: str) -> str | None:
    """``live`` of ``arn:...:function:name:live``; None for an unqualified ARN or ``$LATEST``."""
    parts = function_arn.split(":")
    qualifier = parts[7] if len(parts) > 7 else None
    return None if qualifier in (None, "", "$LATEST") else qualifier


def config_for(configs: list[dict[str, Any]], function_arn: str, qualifier: str | None) -> dict[str, Any] | None:
    """The event invoke config of one qualifier (None: the unqualified function's)."""
    if qualifier is None:
        return unqualified_config(configs, function_arn)
    return next((c for c in configs if c.get("FunctionArn") == f"{function_arn}:{qualifier}"), None)


def schedules(ctx: CollectorContext) -> list[dict[str, Any]]:
    """Every EventBridge Scheduler schedule of the region, in every group (ListSchedules summaries)."""
    return listed(ctx, "scheduler", "list_schedules", "Schedules")


def schedule(ctx: CollectorContext, name: str, group: str) -> dict[str, Any] | None:
    """One schedule in full (GetSchedule: the target's DeadLetterConfig and RetryPolicy, which
    ListSchedules omits); None when it was deleted since it was listed."""
    scheduler = ctx.client("scheduler")

    def load() -> dict[str, Any] | None:
        found: dict[str, Any] | None = not_found_is_none(scheduler.get_schedule, Name=name, GroupName=group)
        return found

    return ctx.shared(("scheduler", "schedule", group, name), load)


def rest_apis(ctx: CollectorContext) -> list[dict[str, Any]]:
    """Every REST API of the region (GetRestApis)."""
    return listed(ctx, "apigateway", "get_rest_apis", "items")


def rest_stages(ctx: CollectorContext, api_id: str) -> list[dict[str, Any]]:
    """A REST API's stages (GetStages: one response, no pages)."""
    apigw = ctx.client("apigateway")
    return ctx.shared(
        ("apigateway", "stages", api_id), lambda: list(apigw.get_stages(restApiId=api_id).get("item") or [])
    )


def rest_resources(ctx: CollectorContext, api_id: str) -> list[dict[str, Any]]:
    """A REST API's resources with their methods and integrations embedded (GetResources)."""
    apigw = ctx.client("apigateway")
    return ctx.shared(
        ("apigateway", "resources", api_id),
        lambda: list(paginate(apigw, "get_resources", "items", ctx.page_size, restApiId=api_id, embed=["methods"])),
    )


def usage_plans(ctx: CollectorContext) -> list[dict[str, Any]]:
    """Every usage plan of the region (GetUsagePlans)."""
    return listed(ctx, "apigateway", "get_usage_plans", "items")


def http_apis(ctx: CollectorContext) -> list[dict[str, Any]]:
    """Every HTTP and WebSocket API of the region (API Gateway v2 GetApis)."""
    return listed(ctx, "apigatewayv2", "get_apis", "Items")


def http_stages(ctx: CollectorContext, api_id: str) -> list[dict[str, Any]]:
    """An HTTP or WebSocket API's stages (API Gateway v2 GetStages)."""
    return listed(ctx, "apigatewayv2", "get_stages", "Items", ApiId=api_id)


def source_kind(mapping: dict[str, Any]) -> str:
    """``sqs``, ``kinesis``, ``dynamodb``, ``kafka`` (MSK or self-managed), ``mq``, ``docdb`` or ``other``."""
    arn = mapping.get("EventSourceArn") or ""
    if arn:
        parts = arn.split(":")
        return _SOURCE_KINDS.get(parts[2], "other") if len(parts) > 2 else "other"
    endpoints = (mapping.get("SelfManagedEventSource") or {}).get("Endpoints") or {}
    return "kafka" if "KAFKA_BOOTSTRAP_SERVERS" in endpoints else "other"


def subscriptions(ctx: CollectorContext) -> list[dict[str, Any]]:
    """Every confirmed subscription in ctx's region with its attributes typed (JSON parsed, booleans),
    read once per run for every collector (shared: copy before changing one).

    Pending subscriptions have no ARN yet ("PendingConfirmation") and cannot be read; they are skipped.
    ListSubscriptions takes no page size: SNS returns 100 per page.
    """
    return ctx.shared(("sns", "subscriptions"), lambda: _read_subscriptions(ctx))


def _read_subscriptions(ctx: CollectorContext) -> list[dict[str, Any]]:
    sns = ctx.client("sns")
    listed = [
        s
        for s in paginate(sns, "list_subscriptions", "Subscriptions")
        if str(s.get("SubscriptionArn")).startswith("arn:")
    ]

    def read(subscription: dict[str, Any]) -> dict[str, Any] | None:
        try:
            attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
        except ClientError as exc:
            if error_code(exc) in _SUBSCRIPTION_GONE:
                return None
            raise
        typed = {**subscription, **typed_attributes(attributes, _SUBSCRIPTION_JSON, numbers=False)}
        redrive = typed.get("RedrivePolicy")
        if isinstance(redrive, dict) and str(redrive.get("maxReceiveCount", "")).isdigit():
            redrive["maxReceiveCount"] = int(redrive["maxReceiveCount"])
        return typed

    return [subscription for subscription in ctx.map(read, listed) if subscription is not None]


def _event_buses(ctx: CollectorContext) -> Iterator[dict[str, Any]]:
    events = ctx.client("events")
    kwargs: dict[str, Any] = {"Limit": ctx.page_size or _BUS_PAGE}
    while True:
        page = events.list_event_buses(**kwargs)
        yield from page.get("EventBuses") or []
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def rules_with_targets(ctx: CollectorContext) -> list[dict[str, Any]]:
    """Every rule on every event bus in ctx's region, with ``Targets`` (ListTargetsByRule), read once
    per run for every collector (shared: copy before changing one)."""
    return ctx.shared(("events", "rules"), lambda: _read_rules(ctx))


def _read_rules(ctx: CollectorContext) -> list[dict[str, Any]]:
    events = ctx.client("events")
    rules = [
        {**rule, "EventBusName": bus["Name"]}
        for bus in _event_buses(ctx)
        for rule in paginate(events, "list_rules", "Rules", ctx.page_size, EventBusName=bus["Name"])
    ]

    def targets(rule: dict[str, Any]) -> dict[str, Any]:
        found = paginate(
            events,
            "list_targets_by_rule",
            "Targets",
            ctx.page_size,
            Rule=rule["Name"],
            EventBusName=rule["EventBusName"],
        )
        return {**rule, "Targets": list(found)}

    return list(ctx.map(targets, rules))
