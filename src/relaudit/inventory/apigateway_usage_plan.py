"""Collector for AWS::ApiGateway::UsagePlan: throttle, quota and the stages each plan covers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import listings, shapes
from relaudit.inventory.base import CollectorContext, document

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ApiGateway::UsagePlan"
IAM_ACTIONS = frozenset({"apigateway:GET"})
DOCUMENT = shapes.fields(shapes.Api("apigateway", "GetUsagePlans", "items[]", ("id", "name")))


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every usage plan as GetUsagePlans returns it (``throttle``, ``quota``, ``apiStages``)."""
    for plan in listings.usage_plans(ctx):
        arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/usageplans/{plan['id']}"
        yield document(ctx, RESOURCE_TYPE, arn, plan.get("name") or plan["id"], plan)
