"""Whether a dead-letter queue named by ARN exists and lets a service (SNS, EventBridge) deliver to it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.aws import error_code
from relaudit.inventory.iam_conditions import block_holds, wildcard_match

if TYPE_CHECKING:
    from relaudit.inventory.base import CollectorContext

IAM_ACTIONS = frozenset({"sqs:GetQueueUrl", "sqs:GetQueueAttributes"})
# What SQS answers for a queue that does not exist (the query and JSON protocols' codes).
QUEUE_GONE_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
# SNS and EventBridge cannot use the AWS managed key: its key policy cannot grant them kms:GenerateDataKey.
_AWS_MANAGED_SQS_KEY = "alias/aws/sqs"
_SEND = "sqs:sendmessage"
# The keys a service's delivery request is known to carry; conditions on others are undecided.
_KNOWN_KEYS = frozenset({"aws:sourcearn", "aws:sourceaccount"})


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return "*" in _as_list(principal.get("AWS")) or service in _as_list(principal.get("Service"))


def _action_matches(action: Any) -> bool:
    return any(wildcard_match(str(pattern), _SEND, ignore_case=True) for pattern in _as_list(action))


def grants_send(policy: Any, service: str, source_arn: str, account_id: str) -> bool:
    """Whether a queue policy lets ``service`` send messages on behalf of ``source_arn``.

    The request a service makes when it delivers carries ``aws:SourceArn`` and
    ``aws:SourceAccount``: conditions on them are evaluated as IAM does (see ``iam_conditions``:
    ``ArnEquals`` takes wildcards like ``ArnLike``, ``...IfExists``, negated operators, sets). A
    condition on any other key, an operator relaudit does not know, or a Deny never makes this
    return False: an unusual policy costs a missed finding rather than a false alarm.
    """
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": account_id}
    for statement in _as_list((policy or {}).get("Statement") if isinstance(policy, dict) else None):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if not _principal_matches(statement.get("Principal"), service) or not _action_matches(statement.get("Action")):
            continue
        if block_holds(statement.get("Condition"), context, _KNOWN_KEYS) is not False:
            return True
    return False


class QueueProbe:
    """Reads the dead-letter queues that other resources name, once each (GetQueueUrl + GetQueueAttributes)."""

    def __init__(self, ctx: CollectorContext) -> None:
        self._ctx = ctx
        self._attributes: dict[str, dict[str, Any] | None] = {}

    def _read(self, name: str) -> dict[str, Any] | None:
        sqs = self._ctx.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=self._ctx.account_id)["QueueUrl"]
            response = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "KmsMasterKeyId"])
        except ClientError as exc:
            if error_code(exc) in QUEUE_GONE_CODES:
                return None
            raise
        attributes: dict[str, Any] = response.get("Attributes") or {}  # absent when none of them is set
        return attributes

    def describe(self, arn: str | None, service: str, source_arn: str) -> dict[str, Any] | None:
        """``{Arn, Exists, AllowsDelivery}`` for a queue in ctx's account and region, else None.

        A queue elsewhere (another account or region, or not SQS) cannot be read with this
        account's role; None lets checks treat it as unknown, not as broken.
        """
        parts = (arn or "").split(":")
        if len(parts) != 6 or parts[2] != "sqs":
            return None
        if parts[3] != self._ctx.region or parts[4] != self._ctx.account_id:
            return None
        name = parts[5]
        if name not in self._attributes:
            self._attributes[name] = self._read(name)
        attributes = self._attributes[name]
        if attributes is None:
            return {"Arn": arn, "Exists": False, "AllowsDelivery": False}
        try:
            policy = json.loads(attributes.get("Policy") or "{}")
        except ValueError:
            policy = {}
        key = attributes.get("KmsMasterKeyId") or ""
        allows = not key.endswith(_AWS_MANAGED_SQS_KEY) and grants_send(
            policy, service, source_arn, self._ctx.account_id
        )
        return {"Arn": arn, "Exists": True, "AllowsDelivery": allows}

    def describe_once(self, arn: str | None, service: str, source_arn: str) -> tuple[dict[str, Any] | None]:
        """``describe`` wrapped in a 1-tuple, so that "unknown" (None inside) differs from a failed call."""
        return (self.describe(arn, service, source_arn),)
