"""Collector for AWS::ApiGateway::RestApi: each REST API with its methods, their integrations and
request contracts (validators, models)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaudit.inventory import listings
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ApiGateway::RestApi"
IAM_ACTIONS = frozenset({"apigateway:GET"})


def _methods(apigw: Any, api_id: str, page_size: int | None) -> list[dict[str, Any]]:
    """Every method of the API's current resources (GetResources with embedded methods)."""
    methods = []
    for resource in paginate(apigw, "get_resources", "items", page_size, restApiId=api_id, embed=["methods"]):
        for verb, method in sorted((resource.get("resourceMethods") or {}).items()):
            integration = method.get("methodIntegration") or {}
            methods.append(
                {
                    "Path": resource.get("path", "/"),
                    "HttpMethod": verb,
                    "AuthorizationType": method.get("authorizationType"),
                    "RequestValidatorId": method.get("requestValidatorId"),
                    "RequestModels": method.get("requestModels") or {},
                    "IntegrationType": integration.get("type"),
                    "IntegrationUri": integration.get("uri"),
                }
            )
    return methods


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every REST API (GetRestApis, shared with the stage collector) with ``Methods``:
    ``[{Path, HttpMethod, AuthorizationType, RequestValidatorId, RequestModels, IntegrationType,
    IntegrationUri}]``.
    """
    apigw = ctx.client("apigateway")
    apis = listings.rest_apis(ctx)
    for api, methods in zip(apis, ctx.map(lambda a: _methods(apigw, a["id"], ctx.page_size), apis), strict=True):
        arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/restapis/{api['id']}"
        properties = {**api, "Methods": methods}
        yield document(ctx, RESOURCE_TYPE, arn, api.get("name") or api["id"], properties)
