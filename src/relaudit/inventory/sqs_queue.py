"""Collector for AWS::SQS::Queue, with redrive policies parsed and dead-letter queues marked."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::SQS::Queue"
IAM_ACTIONS = frozenset({"sqs:ListQueues", "sqs:GetQueueAttributes"})
_JSON_ATTRIBUTES = ("RedrivePolicy", "RedriveAllowPolicy", "Policy")
_GONE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


def _typed(attributes: dict[str, str]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in _JSON_ATTRIBUTES:
            try:
                typed[key] = json.loads(value)
            except ValueError:
                typed[key] = value
        elif value.isdigit():
            typed[key] = int(value)
        elif value in ("true", "false"):
            typed[key] = value == "true"
        else:
            typed[key] = value
    return typed


def _declares_sources(policy: Any) -> bool:
    """A RedriveAllowPolicy that names source queues marks a queue built to be a DLQ."""
    return isinstance(policy, dict) and policy.get("redrivePermission") == "byQueue"


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every queue with its attributes, plus ``IsDeadLetterQueue`` (another queue in the
    region redrives to it) and ``DeclaresDeadLetterSources`` (its RedriveAllowPolicy names sources).

    SQS returns NextToken only when MaxResults is sent, hence the explicit page size.
    """
    sqs = ctx.client("sqs")
    queues: list[dict[str, Any]] = []
    for url in paginate(sqs, "list_queues", "QueueUrls", ctx.page_size or 1000):
        try:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _GONE:
                continue
            raise
        queues.append({"QueueUrl": url, **_typed(attributes)})
    targets = {
        queue["RedrivePolicy"].get("deadLetterTargetArn")
        for queue in queues
        if isinstance(queue.get("RedrivePolicy"), dict)
    }
    for queue in queues:
        name = queue["QueueUrl"].rsplit("/", 1)[-1]
        queue["QueueName"] = name
        queue["IsDeadLetterQueue"] = queue.get("QueueArn") in targets
        queue["DeclaresDeadLetterSources"] = _declares_sources(queue.get("RedriveAllowPolicy"))
        yield document(ctx, RESOURCE_TYPE, queue["QueueArn"], name, queue)
