"""Scheduled runs are idempotent: one schedule firing audits and publishes once, however often it is delivered."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent,
)

from relaudit.events import is_scheduled
from relaudit.sinks.table_schema import TTL_ATTRIBUTE

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

    Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

TABLE_ENV = "RELAUDIT_IDEMPOTENCY_TABLE"
# The scheduled time, not the execution id: EventBridge Scheduler gives every attempt a new
# execution id, while the scheduled time is the same for all deliveries of one firing (and an
# EventBridge rule's "Scheduled Event" carries it in the same field).
EVENT_KEY_JMESPATH = "[source, time]"
# Longer than the function's 900 s maximum timeout and than the schedule's and Lambda's
# asynchronous retry windows (template.yaml: one hour each), so a late duplicate still finds the record.
EXPIRES_AFTER_SECONDS = 24 * 3600
# Records share the findings table: a partition of their own, expired by the table's TTL attribute.
STATIC_PK_VALUE = "IDEMPOTENCY#scheduled-audit"
IAM_ACTIONS = frozenset({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"})


def persistence_layer(table_name: str, client: Any) -> DynamoDBPersistenceLayer:
    """The Powertools persistence layer on the findings table (its pk/sk keys and TTL attribute).

    Args:
        table_name: The findings table.
        client: A DynamoDB client from relaudit.aws.ClientFactory.
    """
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=STATIC_PK_VALUE,
        expiry_attr=TTL_ATTRIBUTE,
        boto3_client=client,
    )


def idempotent_schedule(dynamodb_client: Callable[[], Any]) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler so a scheduled event is handled once per scheduled time.

    Active only when ``RELAUDIT_IDEMPOTENCY_TABLE`` is set (template.yaml sets it); other events
    (on-demand requests) always run. A repeated delivery gets the first run's response; a run that
    raised leaves no record, so a retry audits again.

    Args:
        dynamodb_client: Returns the DynamoDB client to use, called only when a record is needed.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            table = os.environ.get(TABLE_ENV)
            if not table or not isinstance(event, dict) or not is_scheduled(event):
                return handler(event, context)
            config = IdempotencyConfig(
                event_key_jmespath=EVENT_KEY_JMESPATH, expires_after_seconds=EXPIRES_AFTER_SECONDS
            )
            once = idempotent(persistence_store=persistence_layer(table, dynamodb_client()), config=config)(handler)
            result: dict[str, Any] = once(event, context)
            return result

        return wrapper

    return decorate
