"""Collector for AWS::AmazonMQ::Broker (ActiveMQ and RabbitMQ)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::AmazonMQ::Broker"
IAM_ACTIONS = frozenset({"mq:ListBrokers"})
DOCUMENT = shapes.fields(shapes.Api("mq", "ListBrokers", "BrokerSummaries[]", ("BrokerArn", "BrokerName")))


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every broker; the ListBrokers summary already carries EngineType and DeploymentMode."""
    mq = ctx.client("mq")
    for broker in paginate(mq, "list_brokers", "BrokerSummaries", ctx.page_size):
        yield document(ctx, RESOURCE_TYPE, broker["BrokerArn"], broker["BrokerName"], broker)
