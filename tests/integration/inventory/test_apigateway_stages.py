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


def rest_api_with_lambda_methods(apigw: Any, methods: list[tuple[str, str, int | None]]) -> str:
    """REST API ``shop`` with ``/items`` methods, each (verb, function ARN, integration timeout
    or None) an AWS_PROXY integration of the function."""
    api: str = apigw.create_rest_api(name="shop")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    items = apigw.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
    uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{}/invocations"
    for verb, function, timeout in methods:
        apigw.put_method(restApiId=api, resourceId=items, httpMethod=verb, authorizationType="NONE")
        extra = {"timeoutInMillis": timeout} if timeout else {}
        apigw.put_integration(
            restApiId=api,
            resourceId=items,
            httpMethod=verb,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=uri.format(function),
            **extra,
        )
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


def test_rest_methods_with_throttles_and_lambda_timeouts(aws: None, collect: Any) -> None:
    from .lambda_support import function_maker

    make = function_maker()
    slow = make("slow", Timeout=60)
    quick = make("quick", Timeout=5)
    apigw = boto3.client("apigateway", region_name="us-east-1")
    methods = [("GET", quick, None), ("POST", slow, None), ("PUT", f"{slow}:live", 10000)]
    api = rest_api_with_lambda_methods(apigw, methods)
    (root,) = [r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api, stageName="prod")
    apigw.update_stage(
        restApiId=api,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/~1items/GET/throttling/rateLimit", "value": "20"}],
    )

    stage = collect("AWS::ApiGateway::Stage")["shop/prod"].properties

    methods = {(m["Path"], m["HttpMethod"]): m for m in stage["Methods"]}
    assert set(methods) == {("/", "GET"), ("/items", "GET"), ("/items", "POST"), ("/items", "PUT")}
    assert methods[("/items", "GET")]["ThrottlingRateLimit"] == 20.0
    assert methods[("/items", "POST")]["ThrottlingRateLimit"] is None
    assert methods[("/", "GET")]["FunctionArn"] is None
    integrations = {m["HttpMethod"]: m for m in stage["LambdaIntegrations"]}
    assert set(integrations) == {"GET", "POST", "PUT"}
    assert integrations["POST"]["FunctionArn"] == slow
    assert (integrations["POST"]["IntegrationTimeoutInMillis"], integrations["POST"]["FunctionTimeoutInMillis"]) == (
        29000,
        60000,
    )
    assert integrations["PUT"]["FunctionArn"] == slow, "an alias qualifier is dropped"
    assert integrations["PUT"]["IntegrationTimeoutInMillis"] == 10000
    assert integrations["GET"]["FunctionTimeoutInMillis"] == 5000


def test_http_api_routes_and_lambda_timeouts(aws: None, collect: Any) -> None:
    from .lambda_support import function_maker

    slow = function_maker()("slow", Timeout=120)
    v2 = boto3.client("apigatewayv2", region_name="us-east-1")
    api = v2.create_api(Name="hooks", ProtocolType="HTTP")["ApiId"]
    integration = v2.create_integration(
        ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=slow, PayloadFormatVersion="2.0"
    )["IntegrationId"]
    for key in ("GET /a", "POST /b"):
        v2.create_route(ApiId=api, RouteKey=key, Target=f"integrations/{integration}")
    v2.create_stage(
        ApiId=api, StageName="live", RouteSettings={"GET /a": {"ThrottlingRateLimit": 3.0, "ThrottlingBurstLimit": 1}}
    )

    stage = collect("AWS::ApiGatewayV2::Stage")["hooks/live"].properties

    routes = {r["RouteKey"]: r["ThrottlingRateLimit"] for r in stage["Routes"]}
    assert routes == {"GET /a": 3.0, "POST /b": None}
    assert stage["LambdaIntegrations"] == [
        {
            "IntegrationId": integration,
            "FunctionArn": slow,
            "IntegrationTimeoutInMillis": 30000,
            "FunctionTimeoutInMillis": 120000,
            # GET /a admits 1 at once, POST /b sets no throttle: the account's burst (moto: 5,000)
            "BurstLimit": 5000,
        }
    ]


def _as_aws_writes_inherited_throttle(factory: Any) -> None:
    """moto writes 1,000 rps / burst 2,000 into a method setting made for logging alone; AWS writes
    the account's throttle (GetAccount: 10,000 / 5,000 by default). Rewrite moto's numbers as AWS's."""

    def rewrite(parsed: dict[str, Any], **_: Any) -> None:
        for stage in parsed.get("item") or [parsed]:
            for setting in (stage.get("methodSettings") or {}).values():
                if (setting.get("throttlingRateLimit"), setting.get("throttlingBurstLimit")) == (1000.0, 2000):
                    setting.update(throttlingRateLimit=10000.0, throttlingBurstLimit=5000)

    factory.client("apigateway", "us-east-1").meta.events.register("after-call.apigateway.GetStages", rewrite)


def test_logging_only_stage_carries_no_throttle_of_its_own(aws: None, collect: Any, factory: Any) -> None:
    from .catalog_support import verdicts

    apigw = boto3.client("apigateway", region_name="us-east-1")
    logged = rest_api_with_stage(apigw, "logged")
    limited = rest_api_with_stage(apigw, "limited")
    apigw.update_stage(
        restApiId=logged,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}],
    )
    apigw.update_stage(
        restApiId=limited,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "300"},
        ],
    )
    _as_aws_writes_inherited_throttle(factory)

    docs = collect("AWS::ApiGateway::Stage")

    assert docs["logged/prod"].properties["methodSettings"]["*/*"]["throttlingRateLimit"] == 10000.0
    assert docs["logged/prod"].properties["DefaultThrottlingRateLimit"] is None
    assert docs["limited/prod"].properties["DefaultThrottlingRateLimit"] == 300.0
    assert {m["ThrottlingRateLimit"] for m in docs["logged/prod"].properties["Methods"]} == {None}
    assert verdicts("apigateway-stage-throttling-configured", docs) == {
        "logged/prod": "FAILED",
        "limited/prod": "PASSED",
    }


def test_rest_methods_burst_their_own_setting_else_the_stages_else_the_accounts(aws: None, collect: Any) -> None:
    from .lambda_support import function_maker

    make = function_maker()
    fast, slow = make("fast"), make("slow")
    apigw = boto3.client("apigateway", region_name="us-east-1")
    api = rest_api_with_lambda_methods(apigw, [("GET", fast, None), ("POST", slow, None)])
    for stage in ("prod", "dev"):
        apigw.create_deployment(restApiId=api, stageName=stage)
    apigw.update_stage(
        restApiId=api,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "200"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "100"},
            {"op": "replace", "path": "/~1items/GET/throttling/rateLimit", "value": "20"},
            {"op": "replace", "path": "/~1items/GET/throttling/burstLimit", "value": "30"},
        ],
    )

    docs = collect("AWS::ApiGateway::Stage")

    prod = {m["HttpMethod"]: m["BurstLimit"] for m in docs["shop/prod"].properties["LambdaIntegrations"]}
    assert prod == {"GET": 30, "POST": 100}  # the method's own; the stage default's
    dev = {m["HttpMethod"]: m["BurstLimit"] for m in docs["shop/dev"].properties["LambdaIntegrations"]}
    assert dev == {"GET": 5000, "POST": 5000}, "no throttle of its own: the account's burst (GetAccount)"


def test_http_integrations_burst_by_the_routes_that_target_them(aws: None, collect: Any) -> None:
    from .lambda_support import function_maker

    make = function_maker()
    v2 = boto3.client("apigatewayv2", region_name="us-east-1")
    api = v2.create_api(Name="hooks", ProtocolType="HTTP")["ApiId"]
    ids = {
        name: v2.create_integration(
            ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=make(name), PayloadFormatVersion="2.0"
        )["IntegrationId"]
        for name in ("routed", "limited", "unrouted")
    }
    v2.create_route(ApiId=api, RouteKey="GET /a", Target=f"integrations/{ids['routed']}")
    v2.create_route(ApiId=api, RouteKey="GET /b", Target=f"integrations/{ids['limited']}")
    v2.create_stage(
        ApiId=api,
        StageName="live",
        DefaultRouteSettings={"ThrottlingRateLimit": 100.0, "ThrottlingBurstLimit": 40},
        RouteSettings={"GET /b": {"ThrottlingRateLimit": 5.0, "ThrottlingBurstLimit": 2}},
    )

    stage = collect("AWS::ApiGatewayV2::Stage")["hooks/live"].properties

    bursts = {item["IntegrationId"]: item["BurstLimit"] for item in stage["LambdaIntegrations"]}
    assert bursts == {ids["routed"]: 40, ids["limited"]: 2, ids["unrouted"]: None}
