"""AWS::ApiGateway::Account collector on moto: the account throttle against every stage's limit."""

from __future__ import annotations

from typing import Any

import boto3

from .test_apigateway_stages import rest_api_with_stage


def test_one_document_summing_stage_limits(aws: None, collect: Any) -> None:
    apigw = boto3.client("apigateway", region_name="us-east-1")
    fast = rest_api_with_stage(apigw, "fast")
    rest_api_with_stage(apigw, "open")
    apigw.update_stage(
        restApiId=fast,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "6000"}],
    )
    v2 = boto3.client("apigatewayv2", region_name="us-east-1")
    http = v2.create_api(Name="mobile", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(
        ApiId=http, StageName="live", DefaultRouteSettings={"ThrottlingRateLimit": 5000.0, "ThrottlingBurstLimit": 100}
    )

    docs = collect("AWS::ApiGateway::Account")

    assert list(docs) == ["apigateway-account/us-east-1"]
    doc = docs["apigateway-account/us-east-1"]
    assert doc.arn == "arn:aws:apigateway:us-east-1::/account"
    # moto returns the default account throttle: 10,000 rps, burst 5,000.
    assert doc.properties["AccountRateLimit"] == 10000.0
    assert doc.properties["StageCount"] == 3
    assert doc.properties["ThrottledStageCount"] == 2
    assert doc.properties["StageRateLimitSum"] == 11000.0
    assert doc.properties["StageRateLimitPercent"] == 110.0
    stages = {(s["Api"], s["Stage"]): s for s in doc.properties["Stages"]}
    assert stages[("open", "prod")]["RateLimit"] is None
    assert stages[("mobile", "live")]["ProtocolType"] == "HTTP"


def test_no_apis_still_one_document(aws: None, collect: Any) -> None:
    docs = collect("AWS::ApiGateway::Account", region="eu-west-1")
    assert docs["apigateway-account/eu-west-1"].properties["StageCount"] == 0


def test_inherited_stage_throttles_add_nothing_to_the_budget(aws: None, collect: Any, factory: Any) -> None:
    from .test_apigateway_stages import _as_aws_writes_inherited_throttle

    apigw = boto3.client("apigateway", region_name="us-east-1")
    for name in ("orders", "billing"):
        api = rest_api_with_stage(apigw, name)
        apigw.update_stage(
            restApiId=api,
            stageName="prod",
            patchOperations=[{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}],
        )
    _as_aws_writes_inherited_throttle(factory)

    doc = collect("AWS::ApiGateway::Account")["apigateway-account/us-east-1"].properties

    # Two logging stages used to count 10,000 each: 200% of the account, a false FAILED.
    assert (doc["ThrottledStageCount"], doc["StageRateLimitSum"]) == (0, 0)
