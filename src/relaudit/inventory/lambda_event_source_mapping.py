"""Collector for AWS::Lambda::EventSourceMapping, joined with its function's concurrency and alarms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaudit.inventory import alarm_index, listings, shapes
from relaudit.inventory.base import CollectorContext, document
from relaudit.inventory.joins import guarded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::Lambda::EventSourceMapping"
IAM_ACTIONS = listings.MAPPING_ACTIONS | listings.CONCURRENCY_ACTIONS | alarm_index.IAM_ACTIONS
# ARN service -> source kind; streams are Kinesis and DynamoDB Streams (ordered, retried per shard).
STREAM_KINDS = frozenset({"kinesis", "dynamodb"})
DOCUMENT = shapes.fields(
    shapes.Api(
        "lambda",
        "ListEventSourceMappings",
        "EventSourceMappings[]",
        ("UUID", "EventSourceMappingArn", "EventSourceArn", "FunctionArn", "SelfManagedEventSource.Endpoints"),
    ),
    SourceKind=shapes.ANY,
    IsStream=shapes.ANY,
    FunctionName=shapes.ANY,
    FunctionReservedConcurrency=shapes.ANY,
    IteratorAgeAlarms=shapes.ALARMS,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("lambda", "GetFunction", "", ("Concurrency.ReservedConcurrentExecutions",)),
    alarm_index.READS,
)


def _source_name(mapping: dict[str, Any]) -> str:
    arn = mapping.get("EventSourceArn") or ""
    if not arn:
        return "self-managed"
    resource = arn.split(":", 5)[-1]
    if resource.startswith("table/") and "/stream/" in resource:  # DynamoDB stream: table/<name>/stream/<label>
        return resource.split("/")[1]
    if resource.startswith(("cluster/", "broker:")):  # MSK cluster/<name>/<uuid>; Amazon MQ broker:<name>:<id>
        return resource.replace(":", "/").split("/")[1]
    return resource.split("/")[-1]


def _function_name(function_arn: str) -> str:
    parts = function_arn.split(":")
    return parts[6] if len(parts) > 6 else function_arn


def _reserved_concurrency(ctx: CollectorContext, function_arn: str) -> dict[str, int | None]:
    """``{"Reserved": n}``: the function's reserved concurrency, None when unset or the function is gone."""
    return {"Reserved": listings.reserved_concurrency(ctx, function_arn)}


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every event source mapping with ``SourceKind``, ``IsStream``, ``FunctionName`` and, when a
    selected check reads them, ``FunctionReservedConcurrency`` (GetFunction, once per function) and
    ``IteratorAgeAlarms`` (alarms on the function's IteratorAge metric; DescribeAlarms once per region).
    Both are optional joins: when AWS refuses one, the field is left out and the unit reported incomplete.
    """
    mappings = listings.event_source_mappings(ctx)
    reserved: dict[str, int | None] = {}
    alarms = (
        guarded(ctx, "IteratorAgeAlarms", alarm_index.load_alarms, ctx)
        if mappings and ctx.wants("IteratorAgeAlarms")
        else None
    )
    read_reserved = ctx.wants("FunctionReservedConcurrency")
    for mapping in mappings:
        function_arn = mapping.get("FunctionArn") or ""
        function = _function_name(function_arn)
        kind = listings.source_kind(mapping)
        properties: dict[str, Any] = {
            **mapping,
            "SourceKind": kind,
            "IsStream": kind in STREAM_KINDS,
            "FunctionName": function,
        }
        if read_reserved and function_arn not in reserved:
            found = guarded(ctx, "FunctionReservedConcurrency", _reserved_concurrency, ctx, function_arn)
            read_reserved = found is not None  # one refusal is enough: do not ask for every function
            if found is not None:
                reserved[function_arn] = found["Reserved"]
        if function_arn in reserved:
            properties["FunctionReservedConcurrency"] = reserved[function_arn]
        if alarms is not None:
            properties["IteratorAgeAlarms"] = alarms.find("AWS/Lambda", "IteratorAge", "FunctionName", function)
        uuid = mapping["UUID"]
        arn = (
            mapping.get("EventSourceMappingArn")
            or f"arn:{ctx.partition}:lambda:{ctx.region}:{ctx.account_id}:event-source-mapping:{uuid}"
        )
        yield document(ctx, RESOURCE_TYPE, arn, f"{function}/{_source_name(mapping)}", properties)
