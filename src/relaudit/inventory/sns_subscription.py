"""Collector for AWS::SNS::Subscription, with its redrive policy parsed and its dead-letter queue checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from relaudit.inventory import queue_access
from relaudit.inventory.base import CollectorContext, document, paginate, typed_attributes
from relaudit.inventory.joins import guarded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::SNS::Subscription"
LIST_ACTIONS = frozenset({"sns:ListSubscriptions", "sns:GetSubscriptionAttributes"})
IAM_ACTIONS = LIST_ACTIONS | queue_access.IAM_ACTIONS
_JSON_ATTRIBUTES = ("RedrivePolicy", "FilterPolicy", "DeliveryPolicy", "EffectiveDeliveryPolicy")
_GONE = {"NotFound", "NotFoundException", "ResourceNotFoundException"}


def subscriptions(ctx: CollectorContext) -> Iterator[dict[str, Any]]:
    """Every confirmed subscription in ctx's region with its attributes typed (JSON parsed, booleans).

    Pending subscriptions have no ARN yet ("PendingConfirmation") and cannot be read; they are skipped.
    ListSubscriptions takes no page size: SNS returns 100 per page.
    """
    sns = ctx.client("sns")
    for listed in paginate(sns, "list_subscriptions", "Subscriptions"):
        arn = listed.get("SubscriptionArn") or ""
        if not arn.startswith("arn:"):
            continue
        try:
            attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _GONE:
                continue
            raise
        yield {**listed, **typed_attributes(attributes, _JSON_ATTRIBUTES, numbers=False)}


def _endpoint_name(protocol: str, endpoint: str) -> str:
    if protocol in ("http", "https"):
        return urlparse(endpoint).netloc or endpoint
    if endpoint.startswith("arn:"):
        return endpoint.rsplit(":", 1)[-1]
    return protocol  # email and SMS endpoints are personal data: not put in finding names


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every confirmed subscription with its attributes and, when a check reads it,
    ``DeadLetterQueue`` ``{Arn, Exists, AllowsDelivery}`` for a redrive target in this account and
    region (the queue exists, and its policy lets sns.amazonaws.com send from the topic); null otherwise.
    """
    probe = queue_access.QueueProbe(ctx) if ctx.wants("DeadLetterQueue") else None
    for subscription in subscriptions(ctx):
        arn = subscription["SubscriptionArn"]
        topic = subscription.get("TopicArn") or ""
        protocol = subscription.get("Protocol") or ""
        redrive = subscription.get("RedrivePolicy")
        if isinstance(redrive, dict) and redrive.get("maxReceiveCount") is not None:
            redrive["maxReceiveCount"] = int(redrive["maxReceiveCount"])
        if probe is not None:
            target = redrive.get("deadLetterTargetArn") if isinstance(redrive, dict) else None
            found = guarded(ctx, "DeadLetterQueue", probe.describe_once, target, "sns.amazonaws.com", topic)
            if found is None:
                probe = None  # SQS refused: leave the field out from here on
            else:
                subscription["DeadLetterQueue"] = found[0]
        name = f"{topic.rsplit(':', 1)[-1]}/{protocol}/{_endpoint_name(protocol, subscription.get('Endpoint') or '')}"
        yield document(ctx, RESOURCE_TYPE, arn, name, subscription)
