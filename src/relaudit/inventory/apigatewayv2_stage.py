"""Collector for AWS::ApiGatewayV2::Stage (HTTP and WebSocket APIs), joined with routes and Lambda timeouts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaudit.inventory import apigateway_throttle, lambda_timeouts, listings, shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.joins import guarded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ApiGatewayV2::Stage"
IAM_ACTIONS = frozenset({"apigateway:GET", *apigateway_throttle.IAM_ACTIONS, *lambda_timeouts.IAM_ACTIONS})
DEFAULT_INTEGRATION_TIMEOUT_MS = {"HTTP": 30_000, "WEBSOCKET": 29_000}
DOCUMENT = shapes.fields(
    shapes.Api(
        "apigatewayv2",
        "GetStages",
        "Items[]",
        (
            "StageName",
            "DefaultRouteSettings.ThrottlingRateLimit",
            "DefaultRouteSettings.ThrottlingBurstLimit",
            "RouteSettings.*.ThrottlingRateLimit",
            "RouteSettings.*.ThrottlingBurstLimit",
        ),
    ),
    ApiId=shapes.ANY,
    ApiName=shapes.ANY,
    ProtocolType=shapes.ANY,
    Routes=shapes.ListOf(shapes.fields(RouteKey=shapes.ANY, ThrottlingRateLimit=shapes.ANY)),
    LambdaIntegrations=shapes.ListOf(
        shapes.fields(
            IntegrationId=shapes.ANY,
            FunctionArn=shapes.ANY,
            IntegrationTimeoutInMillis=shapes.ANY,
            FunctionTimeoutInMillis=shapes.ANY,
            BurstLimit=shapes.ANY,
        )
    ),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("apigatewayv2", "GetRoutes", "Items[]", ("RouteKey", "Target")),
    shapes.Api(
        "apigatewayv2",
        "GetIntegrations",
        "Items[]",
        ("IntegrationId", "IntegrationType", "IntegrationUri", "TimeoutInMillis"),
    ),
    shapes.Api("apigatewayv2", "GetApis", "Items[]", ("ApiId", "Name", "ProtocolType")),
    shapes.Api("lambda", "ListFunctions", "Functions[]", ("FunctionArn", "Timeout")),
    shapes.Api("apigateway", "GetAccount", "", ("throttleSettings.burstLimit",)),
)


def _routes(apigw: Any, api_id: str, page_size: int | None) -> list[tuple[str, str | None]]:
    """(route key, target) of every route: the target is ``integrations/<IntegrationId>``."""
    return [
        (route["RouteKey"], route.get("Target"))
        for route in paginate(apigw, "get_routes", "Items", page_size, ApiId=api_id)
    ]


def _lambda_integrations(apigw: Any, api: dict[str, Any], page_size: int | None) -> list[dict[str, Any]]:
    default_timeout = DEFAULT_INTEGRATION_TIMEOUT_MS.get(api.get("ProtocolType") or "", 30_000)
    integrations = []
    for integration in paginate(apigw, "get_integrations", "Items", page_size, ApiId=api["ApiId"]):
        arn = lambda_timeouts.function_arn(integration.get("IntegrationUri"))
        if integration.get("IntegrationType") in ("AWS", "AWS_PROXY") and arn:
            integrations.append(
                {
                    "IntegrationId": integration.get("IntegrationId"),
                    "FunctionArn": arn,
                    "IntegrationTimeoutInMillis": int(integration.get("TimeoutInMillis") or default_timeout),
                }
            )
    return integrations


def _stage_routes(stage: dict[str, Any], routes: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """Each route's effective throttle on this stage: its RouteSettings, else DefaultRouteSettings."""
    default_rate = (stage.get("DefaultRouteSettings") or {}).get("ThrottlingRateLimit")
    settings = stage.get("RouteSettings") or {}
    return [
        {"RouteKey": key, "ThrottlingRateLimit": (settings.get(key) or {}).get("ThrottlingRateLimit", default_rate)}
        for key, _ in routes
    ]


def _integration_bursts(
    stage: dict[str, Any], routes: list[tuple[str, str | None]], account: dict[str, Any]
) -> dict[str, int | None]:
    """IntegrationId -> the most requests this stage admits at once over the routes that target it
    (each route's own burst limit, else the stage default's, capped by the account's: see
    ``apigateway_throttle.admitted_burst``); an integration no route targets is absent."""
    default = (stage.get("DefaultRouteSettings") or {}).get("ThrottlingBurstLimit")
    settings = stage.get("RouteSettings") or {}
    bursts: dict[str, int | None] = {}
    for key, target in routes:
        if not (target or "").startswith("integrations/"):
            continue
        own = (settings.get(key) or {}).get("ThrottlingBurstLimit")
        burst = apigateway_throttle.admitted_burst([own, default], account)
        integration = (target or "").removeprefix("integrations/")
        previous = bursts.get(integration)
        bursts[integration] = burst if previous is None or (burst is not None and burst > previous) else previous
    return bursts


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every stage with ``ApiId``, ``ApiName`` and ``ProtocolType`` of its API and, when a
    selected check reads them:

    - ``Routes``: each route of the API with its effective ``ThrottlingRateLimit`` on this stage;
    - ``LambdaIntegrations``: Lambda integrations with ``IntegrationTimeoutInMillis`` (30 s default
      for HTTP APIs), the function's ``FunctionTimeoutInMillis`` (ListFunctions, once per region)
      and ``BurstLimit``: the most requests the stage admits at once over the routes targeting the
      integration (null when no route does), the account's burst limit (GetAccount, once per
      region) when no route or default route setting sets one.
    """
    apigw = ctx.client("apigatewayv2")
    timeouts: dict[str, int] | None = None
    account: dict[str, Any] | None = None
    apis = listings.http_apis(ctx)
    wants_integrations = ctx.wants("LambdaIntegrations")
    Read = tuple[list[tuple[str, str | None]] | None, list[dict[str, Any]] | None, list[dict[str, Any]]]

    def read(api: dict[str, Any]) -> Read:
        # An integration's burst limit comes from the routes targeting it: read them for either field.
        wants_routes = ctx.wants("Routes") or wants_integrations
        routes = _routes(apigw, api["ApiId"], ctx.page_size) if wants_routes else None
        integrations = _lambda_integrations(apigw, api, ctx.page_size) if wants_integrations else None
        return routes, integrations, listings.http_stages(ctx, api["ApiId"])

    for api, (routes, integrations, stages) in zip(apis, ctx.map(read, apis), strict=True):
        api_id = api["ApiId"]
        if integrations and timeouts is None:
            timeouts = guarded(ctx, "LambdaIntegrations", lambda_timeouts.timeouts_ms, ctx) or {}
            account = guarded(ctx, "LambdaIntegrations", apigateway_throttle.account_throttle, ctx) or {}
        for stage in stages:
            name = stage["StageName"]
            arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/apis/{api_id}/stages/{name}"
            properties = {
                **stage,
                "ApiId": api_id,
                "ApiName": api.get("Name"),
                "ProtocolType": api.get("ProtocolType"),
            }
            if routes is not None and ctx.wants("Routes"):
                properties["Routes"] = _stage_routes(stage, routes)
            if integrations is not None:
                bursts = _integration_bursts(stage, routes or [], account or {})
                properties["LambdaIntegrations"] = [
                    {
                        **item,
                        "FunctionTimeoutInMillis": (timeouts or {}).get(item["FunctionArn"]),
                        "BurstLimit": bursts.get(item["IntegrationId"]),
                    }
                    for item in integrations
                ]
            yield document(ctx, RESOURCE_TYPE, arn, f"{api.get('Name', api_id)}/{name}", properties)
