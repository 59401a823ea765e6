"""Collector for AWS::S3::Bucket: the region's buckets with their event notifications (the
workload graph's S3 -> Lambda, SQS and SNS edges)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.aws import error_code
from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::S3::Bucket"
IAM_ACTIONS = frozenset({"s3:ListAllMyBuckets", "s3:GetBucketNotification"})
_GONE = ("NoSuchBucket",)
_NOTIFICATION_KEYS = ("LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations")
_NOTIFICATIONS = "GetBucketNotificationConfiguration"
DOCUMENT = shapes.fields(
    Name=shapes.Api("s3", "ListBuckets", "Buckets[].Name"),
    NotificationConfiguration=shapes.fields(
        **{key: shapes.Api("s3", _NOTIFICATIONS, key) for key in _NOTIFICATION_KEYS},
        EventBridgeEnabled=shapes.ANY,  # whether EventBridgeConfiguration is present
    ),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("s3", "ListBuckets", "Buckets[]", ("Name",)),
    shapes.Api("s3", _NOTIFICATIONS, "", (*_NOTIFICATION_KEYS, "EventBridgeConfiguration")),
)


def _notifications(ctx: CollectorContext, name: str) -> dict[str, Any] | None:
    try:
        response = ctx.client("s3").get_bucket_notification_configuration(Bucket=name)
    except ClientError as exc:
        if error_code(exc) in _GONE:
            return None
        raise
    return {key: response.get(key) or [] for key in _NOTIFICATION_KEYS} | {
        "EventBridgeEnabled": "EventBridgeConfiguration" in response
    }


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every bucket of the region (ListBuckets filtered on ``BucketRegion``) with
    ``NotificationConfiguration`` ``{LambdaFunctionConfigurations, QueueConfigurations,
    TopicConfigurations, EventBridgeEnabled}``."""
    buckets = list(paginate(ctx.client("s3"), "list_buckets", "Buckets", ctx.page_size, BucketRegion=ctx.region))
    names = [bucket["Name"] for bucket in buckets]
    for name, notifications in zip(names, ctx.map(lambda n: _notifications(ctx, n), names), strict=True):
        if notifications is None:
            continue
        arn = f"arn:{ctx.partition}:s3:::{name}"
        yield document(ctx, RESOURCE_TYPE, arn, name, {"Name": name, "NotificationConfiguration": notifications})
