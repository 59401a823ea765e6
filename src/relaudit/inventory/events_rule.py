"""Collector for AWS::Events::Rule (every event bus), with targets and their dead-letter queues checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaudit.inventory import listings, queue_access, shapes
from relaudit.inventory.base import CollectorContext, document
from relaudit.inventory.joins import guarded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::Events::Rule"
IAM_ACTIONS = listings.RULE_ACTIONS | queue_access.IAM_ACTIONS
DOCUMENT = shapes.fields(
    shapes.Api("events", "ListRules", "Rules[]", ("Name", "Arn", "State", "ManagedBy")),
    EventBusName=shapes.ANY,
    Targets=shapes.ListOf(
        shapes.fields(
            shapes.Api("events", "ListTargetsByRule", "Targets[]", ("Arn", "DeadLetterConfig.Arn")),
            DeadLetterQueue=shapes.DEAD_LETTER_QUEUE,
        )
    ),
    TargetCount=shapes.ANY,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("events", "ListEventBuses", "EventBuses[]", ("Name",)),
    shapes.Api("sqs", "GetQueueUrl", "", ("QueueUrl",)),
    shapes.Api("sqs", "GetQueueAttributes", "Attributes"),
)


def _probe_targets(ctx: CollectorContext, probe: queue_access.QueueProbe, rule: dict[str, Any]) -> bool:
    """Add ``DeadLetterQueue`` to each target; False when SQS refused (the join is recorded as failed)."""
    for target in rule["Targets"]:
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        found = guarded(ctx, "DeadLetterQueue", probe.describe_once, dlq, "events.amazonaws.com", rule["Arn"])
        if found is None:
            return False
        target["DeadLetterQueue"] = found[0]
    return True


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every rule with ``Targets``, ``TargetCount`` and, when a check reads it, each target's
    ``DeadLetterQueue`` ``{Arn, Exists, AllowsDelivery}`` (the queue exists in this account and region
    and its policy lets events.amazonaws.com send from the rule; null when it cannot be read).

    Rules that AWS services manage (``ManagedBy`` set) are collected too; checks skip them.
    """
    probe = queue_access.QueueProbe(ctx) if ctx.wants("DeadLetterQueue") else None
    for shared in listings.rules_with_targets(ctx):
        rule = {**shared, "Targets": [dict(target) for target in shared["Targets"]]}
        arn = rule["Arn"]
        if probe is not None and not _probe_targets(ctx, probe, rule):
            probe = None  # SQS refused: leave the field out from here on
        rule["TargetCount"] = len(rule["Targets"])
        bus = rule["EventBusName"]
        name = rule["Name"] if bus == "default" else f"{bus}/{rule['Name']}"
        yield document(ctx, RESOURCE_TYPE, arn, name, rule)
