"""Collector for AWS::ApiGateway::Stage (REST APIs), joined with usage plans, methods and Lambda timeouts."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from relaudit.inventory import apigateway_throttle, lambda_timeouts, listings, shapes
from relaudit.inventory.base import CollectorContext, document
from relaudit.inventory.joins import guarded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ApiGateway::Stage"
IAM_ACTIONS = frozenset({"apigateway:GET", *apigateway_throttle.IAM_ACTIONS, *lambda_timeouts.IAM_ACTIONS})
DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000
_METHOD_FIELDS = ("Methods", "LambdaIntegrations")
_METHOD = shapes.fields(
    Path=shapes.ANY,
    HttpMethod=shapes.ANY,
    IntegrationType=shapes.ANY,
    IntegrationTimeoutInMillis=shapes.ANY,
    FunctionArn=shapes.ANY,
    ThrottlingRateLimit=shapes.ANY,
    BurstLimit=shapes.ANY,
    FunctionTimeoutInMillis=shapes.ANY,
)
DOCUMENT = shapes.fields(
    shapes.Api(
        "apigateway",
        "GetStages",
        "item[]",
        ("stageName", "methodSettings.*.throttlingRateLimit", "methodSettings.*.throttlingBurstLimit"),
    ),
    restApiId=shapes.ANY,
    restApiName=shapes.ANY,
    UsagePlans=shapes.ListOf(
        shapes.fields(
            id=shapes.ANY,
            name=shapes.ANY,
            throttle=shapes.Shape("apigateway", "ThrottleSettings"),
            methodThrottle=shapes.ANY,
        )
    ),
    DefaultThrottlingRateLimit=shapes.ANY,
    Methods=shapes.ListOf(_METHOD),
    LambdaIntegrations=shapes.ListOf(_METHOD),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api(
        "apigateway",
        "GetResources",
        "items[]",
        (
            "path",
            "resourceMethods.*.methodIntegration.type",
            "resourceMethods.*.methodIntegration.uri",
            "resourceMethods.*.methodIntegration.timeoutInMillis",
        ),
    ),
    shapes.Api(
        "apigateway",
        "GetUsagePlans",
        "items[]",
        ("id", "name", "throttle", "apiStages[].apiId", "apiStages[].stage", "apiStages[].throttle"),
    ),
    shapes.Api("apigateway", "GetRestApis", "items[]", ("id", "name")),
    shapes.Api("apigateway", "GetAccount", "", ("throttleSettings.rateLimit", "throttleSettings.burstLimit")),
    shapes.Api("lambda", "ListFunctions", "Functions[]", ("FunctionArn", "Timeout")),
)


def _plans_by_stage(ctx: CollectorContext) -> dict[tuple[str, str], list[dict[str, Any]]]:
    plans: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for plan in listings.usage_plans(ctx):
        for api_stage in plan.get("apiStages") or []:
            plans[(api_stage.get("apiId", ""), api_stage.get("stage", ""))].append(
                {
                    "id": plan.get("id"),
                    "name": plan.get("name"),
                    "throttle": plan.get("throttle"),
                    "methodThrottle": api_stage.get("throttle"),
                }
            )
    return plans


def _api_methods(ctx: CollectorContext, api_id: str) -> list[dict[str, Any]]:
    """Every method of an API with its integration (GetResources with embedded methods, shared)."""
    methods: list[dict[str, Any]] = []
    for resource in listings.rest_resources(ctx, api_id):
        for verb, method in (resource.get("resourceMethods") or {}).items():
            integration = method.get("methodIntegration") or {}
            methods.append(
                {
                    "Path": resource.get("path", "/"),
                    "HttpMethod": verb,
                    "IntegrationType": integration.get("type"),
                    "IntegrationTimeoutInMillis": int(
                        integration.get("timeoutInMillis") or DEFAULT_INTEGRATION_TIMEOUT_MS
                    ),
                    "FunctionArn": lambda_timeouts.function_arn(integration.get("uri"))
                    if integration.get("type") in ("AWS", "AWS_PROXY")
                    else None,
                }
            )
    return methods


def _setting_key(key: str) -> tuple[str, str]:
    """``~1items/GET`` or ``items/GET`` -> (``items``, ``GET``); ``*/*`` -> (``*``, ``*``)."""
    path, _, verb = key.replace("~1", "/").rpartition("/")
    return path.strip("/"), verb


def _settings(stage: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {_setting_key(key): value for key, value in (stage.get("methodSettings") or {}).items()}


def _stage_methods(
    stage: dict[str, Any], methods: list[dict[str, Any]], timeouts: dict[str, int], account: dict[str, Any]
) -> list[dict[str, Any]]:
    """The API's methods as this stage runs them: the throttle rate the stage sets (a method
    override's, else the stage default's; None when only inherited), the burst it admits at once
    (that setting's, else the account's: ``apigateway_throttle.admitted_burst``) and the
    function's timeout."""
    settings = _settings(stage)
    default = settings.get(("*", "*"))
    result = []
    for method in methods:
        override = settings.get((method["Path"].strip("/"), method["HttpMethod"])) or {}
        setting = override if "throttlingRateLimit" in override else default
        arn = method["FunctionArn"]
        own_burst = apigateway_throttle.own_burst(setting, account)
        result.append(
            {
                **method,
                "ThrottlingRateLimit": apigateway_throttle.own_rate(setting, account),
                "BurstLimit": apigateway_throttle.admitted_burst([own_burst], account),
                "FunctionTimeoutInMillis": timeouts.get(arn) if arn else None,
            }
        )
    return result


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every REST API stage with ``restApiId``, ``restApiName``, ``UsagePlans``,
    ``DefaultThrottlingRateLimit`` (the ``*/*`` rate the stage sets itself: null when unset or when
    API Gateway only wrote the account's throttle in, see ``apigateway_throttle``) and, when a
    selected check reads them:

    - ``Methods``: each method of the API with the ``ThrottlingRateLimit`` the stage sets for it
      (method override, else the stage's ``*/*`` default; null when inherited), the ``BurstLimit``
      it admits at once (that setting's burst, else the account's) and its integration;
    - ``LambdaIntegrations``: the methods that invoke a Lambda function, with the integration's
      ``IntegrationTimeoutInMillis`` (29 s default) and the function's ``FunctionTimeoutInMillis``.

    Methods are read from the API's current resources (GetResources), not the stage's deployment.
    """
    apis = listings.rest_apis(ctx)
    if not apis:
        return
    plans = _plans_by_stage(ctx)
    account = apigateway_throttle.account_throttle(ctx)
    wants_methods = any(ctx.wants(field) for field in _METHOD_FIELDS)
    timeouts: dict[str, int] | None = None

    def read(api: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        methods = _api_methods(ctx, api["id"]) if wants_methods else []
        return methods, listings.rest_stages(ctx, api["id"])

    for api, (methods, stages) in zip(apis, ctx.map(read, apis), strict=True):
        if timeouts is None and any(m["FunctionArn"] for m in methods):
            timeouts = guarded(ctx, "LambdaIntegrations", lambda_timeouts.timeouts_ms, ctx) or {}
        for stage in stages:
            name = stage["stageName"]
            arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/restapis/{api['id']}/stages/{name}"
            properties = {
                **stage,
                "restApiId": api["id"],
                "restApiName": api.get("name"),
                "UsagePlans": plans.get((api["id"], name), []),
                "DefaultThrottlingRateLimit": apigateway_throttle.own_rate(_settings(stage).get(("*", "*")), account),
            }
            if wants_methods:
                stage_methods = _stage_methods(stage, methods, timeouts or {}, account)
                properties["Methods"] = stage_methods
                properties["LambdaIntegrations"] = [m for m in stage_methods if m["FunctionArn"]]
            yield document(ctx, RESOURCE_TYPE, arn, f"{api.get('name', api['id'])}/{name}", properties)
