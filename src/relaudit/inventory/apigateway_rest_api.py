"""Collector for AWS::ApiGateway::RestApi: each REST API with its methods, their integrations and
request contracts (validators, models)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaudit.inventory import listings, shapes
from relaudit.inventory.base import CollectorContext, document

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ApiGateway::RestApi"
IAM_ACTIONS = frozenset({"apigateway:GET"})
_METHOD = "items[].resourceMethods.*"  # GetResources with embed=methods
DOCUMENT = shapes.fields(
    shapes.Api("apigateway", "GetRestApis", "items[]", ("id", "name")),
    Methods=shapes.ListOf(
        shapes.fields(
            Path=shapes.Api("apigateway", "GetResources", "items[].path"),
            HttpMethod=shapes.Api("apigateway", "GetResources", f"{_METHOD}.httpMethod"),
            AuthorizationType=shapes.Api("apigateway", "GetResources", f"{_METHOD}.authorizationType"),
            RequestValidatorId=shapes.Api("apigateway", "GetResources", f"{_METHOD}.requestValidatorId"),
            RequestModels=shapes.Api("apigateway", "GetResources", f"{_METHOD}.requestModels"),
            IntegrationType=shapes.Api("apigateway", "GetResources", f"{_METHOD}.methodIntegration.type"),
            IntegrationUri=shapes.Api("apigateway", "GetResources", f"{_METHOD}.methodIntegration.uri"),
        )
    ),
)


def _methods(ctx: CollectorContext, api_id: str) -> list[dict[str, Any]]:
    """Every method of the API's current resources (GetResources with embedded methods, shared
    with the stage collector)."""
    methods = []
    for resource in listings.rest_resources(ctx, api_id):
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
    apis = listings.rest_apis(ctx)
    for api, methods in zip(apis, ctx.map(lambda a: _methods(ctx, a["id"]), apis), strict=True):
        arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/restapis/{api['id']}"
        properties = {**api, "Methods": methods}
        yield document(ctx, RESOURCE_TYPE, arn, api.get("name") or api["id"], properties)
