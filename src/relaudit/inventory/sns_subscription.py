"""Collector for AWS::SNS::Subscription, with its redrive policy parsed and its dead-letter queue checked."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from relaudit.inventory import listings, queue_access, shapes
from relaudit.inventory.base import CollectorContext, document
from relaudit.inventory.joins import guarded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::SNS::Subscription"
IAM_ACTIONS = listings.SUBSCRIPTION_ACTIONS | queue_access.IAM_ACTIONS
DOCUMENT = shapes.fields(
    shapes.Api("sns", "ListSubscriptions", "Subscriptions[]", ("SubscriptionArn", "TopicArn", "Protocol", "Endpoint")),
    # GetSubscriptionAttributes: a string map (its keys are documented, not modelled), typed.
    RedrivePolicy=shapes.REDRIVE_POLICY,
    FilterPolicy=shapes.ANY,
    DeliveryPolicy=shapes.ANY,
    EffectiveDeliveryPolicy=shapes.ANY,
    RawMessageDelivery=shapes.ANY,
    PendingConfirmation=shapes.ANY,
    ConfirmationWasAuthenticated=shapes.ANY,
    SubscriptionRoleArn=shapes.ANY,
    Owner=shapes.ANY,
    DeadLetterQueue=shapes.DEAD_LETTER_QUEUE,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("sns", "GetSubscriptionAttributes", "Attributes"),)


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
    for shared in listings.subscriptions(ctx):
        subscription = dict(shared)
        arn = subscription["SubscriptionArn"]
        topic = subscription.get("TopicArn") or ""
        protocol = subscription.get("Protocol") or ""
        redrive = subscription.get("RedrivePolicy")
        if probe is not None:
            target = redrive.get("deadLetterTargetArn") if isinstance(redrive, dict) else None
            found = guarded(ctx, "DeadLetterQueue", probe.describe_once, target, "sns.amazonaws.com", topic)
            if found is None:
                probe = None  # SQS refused: leave the field out from here on
            else:
                subscription["DeadLetterQueue"] = found[0]
        name = f"{topic.rsplit(':', 1)[-1]}/{protocol}/{_endpoint_name(protocol, subscription.get('Endpoint') or '')}"
        yield document(ctx, RESOURCE_TYPE, arn, name, subscription)
