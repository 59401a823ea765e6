"""Collector for AWS::ApiGateway::Stage (REST APIs), joined with the usage plans covering it."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::ApiGateway::Stage"
IAM_ACTIONS = frozenset({"apigateway:GET"})


def _plans_by_stage(apigw: Any, page_size: int | None) -> dict[tuple[str, str], list[dict[str, Any]]]:
    plans: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for plan in paginate(apigw, "get_usage_plans", "items", page_size):
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


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every REST API stage with ``restApiId``, ``restApiName`` and ``UsagePlans``."""
    apigw = ctx.client("apigateway")
    apis = list(paginate(apigw, "get_rest_apis", "items", ctx.page_size))
    if not apis:
        return
    plans = _plans_by_stage(apigw, ctx.page_size)
    for api in apis:
        for stage in apigw.get_stages(restApiId=api["id"]).get("item") or []:
            name = stage["stageName"]
            arn = f"arn:{ctx.partition}:apigateway:{ctx.region}::/restapis/{api['id']}/stages/{name}"
            properties = {
                **stage,
                "restApiId": api["id"],
                "restApiName": api.get("name"),
                "UsagePlans": plans.get((api["id"], name), []),
            }
            yield document(ctx, RESOURCE_TYPE, arn, f"{api.get('name', api['id'])}/{name}", properties)
