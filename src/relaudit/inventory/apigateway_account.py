"""Collector for AWS::ApiGateway::Account: one document per account and region comparing the
account-level throttle quota (shared by REST, HTTP and WebSocket APIs) with the stages' own limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from relaudit.inventory import apigateway_throttle, listings, shapes
from relaudit.inventory.base import CollectorContext, document

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ApiGateway::Account"
IAM_ACTIONS = frozenset({"apigateway:GET"})
DOCUMENT = shapes.fields(
    throttleSettings=shapes.Api("apigateway", "GetAccount", "throttleSettings"),
    AccountRateLimit=shapes.ANY,
    AccountBurstLimit=shapes.ANY,
    Stages=shapes.ListOf(
        shapes.fields(Api=shapes.ANY, Stage=shapes.ANY, ProtocolType=shapes.ANY, RateLimit=shapes.ANY)
    ),
    StageCount=shapes.ANY,
    ThrottledStageCount=shapes.ANY,
    StageRateLimitSum=shapes.ANY,
    StageRateLimitPercent=shapes.ANY,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("apigateway", "GetAccount", "", ("throttleSettings.rateLimit", "throttleSettings.burstLimit")),
    shapes.Api("apigateway", "GetStages", "item[]", ("stageName", "methodSettings.*.throttlingRateLimit")),
    shapes.Api("apigatewayv2", "GetStages", "Items[]", ("StageName", "DefaultRouteSettings.ThrottlingRateLimit")),
    shapes.Api("apigatewayv2", "GetApis", "Items[]", ("ApiId", "Name", "ProtocolType")),
)


def _positive(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _rest_stages(ctx: CollectorContext, account: dict[str, Any]) -> Iterator[dict[str, Any]]:
    apis = listings.rest_apis(ctx)
    for api, stages in zip(apis, ctx.map(lambda api: listings.rest_stages(ctx, api["id"]), apis), strict=True):
        for stage in stages:
            default = (stage.get("methodSettings") or {}).get("*/*") or {}
            yield {
                "Api": api.get("name") or api["id"],
                "Stage": stage["stageName"],
                "ProtocolType": "REST",
                "RateLimit": apigateway_throttle.own_rate(default, account),
            }


def _v2_stages(ctx: CollectorContext) -> Iterator[dict[str, Any]]:
    apis = listings.http_apis(ctx)
    for api, stages in zip(apis, ctx.map(lambda api: listings.http_stages(ctx, api["ApiId"]), apis), strict=True):
        for stage in stages:
            default = stage.get("DefaultRouteSettings") or {}
            yield {
                "Api": api.get("Name") or api["ApiId"],
                "Stage": stage["StageName"],
                "ProtocolType": api.get("ProtocolType"),
                "RateLimit": _positive(default.get("ThrottlingRateLimit")),
            }


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield one document: GetAccount's ``throttleSettings`` as ``AccountRateLimit`` and
    ``AccountBurstLimit``, every stage's default rate limit in ``Stages`` (``RateLimit`` null when
    the stage sets none, or a REST stage carries only the account's throttle that API Gateway wrote
    into its ``*/*`` setting), ``StageCount``, ``ThrottledStageCount``, ``StageRateLimitSum`` (over
    throttled stages) and ``StageRateLimitPercent`` of the account's rate limit.
    """
    throttle = apigateway_throttle.account_throttle(ctx)
    account_rate = float(throttle.get("rateLimit") or 0)
    stages = [*_rest_stages(ctx, throttle), *_v2_stages(ctx)]
    total = sum(stage["RateLimit"] or 0 for stage in stages)
    properties = {
        "throttleSettings": throttle,
        "AccountRateLimit": account_rate,
        "AccountBurstLimit": throttle.get("burstLimit"),
        "Stages": stages,
        "StageCount": len(stages),
        "ThrottledStageCount": sum(1 for stage in stages if stage["RateLimit"]),
        "StageRateLimitSum": total,
        "StageRateLimitPercent": round(100.0 * total / account_rate, 1) if account_rate else None,
    }
    arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/account"
    yield document(ctx, RESOURCE_TYPE, arn, f"apigateway-account/{ctx.region}", properties)
