"""AWS::ApiGateway::UsagePlan collector on moto."""

from __future__ import annotations

from typing import Any

import boto3


def test_usage_plans_across_pages(aws: None, collect: Any, calls: Any) -> None:
    apigw = boto3.client("apigateway", region_name="us-east-1")
    api = apigw.create_rest_api(name="shop")["id"]
    gold = apigw.create_usage_plan(
        name="gold",
        throttle={"rateLimit": 50.0, "burstLimit": 100},
        quota={"limit": 10000, "period": "DAY"},
        apiStages=[{"apiId": api, "stage": "prod"}],
    )["id"]
    for i in range(3):
        apigw.create_usage_plan(name=f"free-{i}")
    seen = calls("apigateway")

    docs = collect("AWS::ApiGateway::UsagePlan")

    assert sorted(docs) == ["free-0", "free-1", "free-2", "gold"]
    assert docs["gold"].arn == f"arn:aws:apigateway:us-east-1::/usageplans/{gold}"
    assert docs["gold"].properties["throttle"] == {"rateLimit": 50.0, "burstLimit": 100}
    assert docs["gold"].properties["quota"]["limit"] == 10000
    assert docs["gold"].properties["apiStages"] == [{"apiId": api, "stage": "prod"}]
    assert not docs["free-0"].properties.get("throttle")
    # moto 5.2 ignores the page size of GetUsagePlans: one page, so only the paginator is exercised.
    assert seen.count("GetUsagePlans") >= 1
