"""AWS::ApiGateway::Stage and AWS::ApiGatewayV2::Stage collectors on moto."""

from __future__ import annotations

from typing import Any

import boto3


def rest_api_with_stage(apigw: Any, name: str) -> str:
    api: str = apigw.create_rest_api(name=name)["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api)["id"]
    apigw.create_stage(restApiId=api, stageName="prod", deploymentId=deployment)
    return api


def test_rest_stages_with_throttling_and_usage_plans(aws: None, collect: Any) -> None:
    apigw = boto3.client("apigateway", region_name="us-east-1")
    throttled = rest_api_with_stage(apigw, "throttled")
    planned = rest_api_with_stage(apigw, "planned")
    rest_api_with_stage(apigw, "open")
    apigw.update_stage(
        restApiId=throttled,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"}],
    )
    apigw.create_usage_plan(
        name="gold", throttle={"rateLimit": 10.0, "burstLimit": 5}, apiStages=[{"apiId": planned, "stage": "prod"}]
    )

    docs = collect("AWS::ApiGateway::Stage")

    assert sorted(docs) == ["open/prod", "planned/prod", "throttled/prod"]
    assert docs["throttled/prod"].arn == f"arn:aws:apigateway:us-east-1::/restapis/{throttled}/stages/prod"
    assert docs["throttled/prod"].properties["methodSettings"]["*/*"]["throttlingRateLimit"] == 100.0
    assert docs["planned/prod"].properties["UsagePlans"][0]["throttle"]["rateLimit"] == 10.0
    assert docs["open/prod"].properties["UsagePlans"] == []


def test_http_api_stages(aws: None, collect: Any) -> None:
    v2 = boto3.client("apigatewayv2", region_name="us-east-1")
    fast = v2.create_api(Name="fast", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(
        ApiId=fast, StageName="live", DefaultRouteSettings={"ThrottlingRateLimit": 5.0, "ThrottlingBurstLimit": 2}
    )
    for i in range(3):
        bare = v2.create_api(Name=f"bare-{i}", ProtocolType="HTTP")["ApiId"]
        v2.create_stage(ApiId=bare, StageName="live")
    ws = v2.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")["ApiId"]
    v2.create_stage(ApiId=ws, StageName="prod")

    docs = collect("AWS::ApiGatewayV2::Stage")

    assert len(docs) == 5
    assert docs["fast/live"].arn == f"arn:aws:apigateway:us-east-1::/apis/{fast}/stages/live"
    assert docs["fast/live"].properties["DefaultRouteSettings"]["ThrottlingRateLimit"] == 5.0
    assert (docs["bare-0/live"].properties.get("DefaultRouteSettings") or {}).get("ThrottlingRateLimit") is None
    assert docs["ws/prod"].properties["ProtocolType"] == "WEBSOCKET"
