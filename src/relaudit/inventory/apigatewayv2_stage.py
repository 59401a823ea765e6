"""Collector for AWS::ApiGatewayV2::Stage (HTTP and WebSocket APIs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ApiGatewayV2::Stage"
IAM_ACTIONS = frozenset({"apigateway:GET"})


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every stage with ``ApiId``, ``ApiName`` and ``ProtocolType`` of its API."""
    apigw = ctx.client("apigatewayv2")
    for api in paginate(apigw, "get_apis", "Items", ctx.page_size):
        for stage in paginate(apigw, "get_stages", "Items", ctx.page_size, ApiId=api["ApiId"]):
            name = stage["StageName"]
            arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/apis/{api['ApiId']}/stages/{name}"
            properties = {
                **stage,
                "ApiId": api["ApiId"],
                "ApiName": api.get("Name"),
                "ProtocolType": api.get("ProtocolType"),
            }
            yield document(ctx, RESOURCE_TYPE, arn, f"{api.get('Name', api['ApiId'])}/{name}", properties)
