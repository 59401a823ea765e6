"""The collectors the workload graph adds, on moto: IAM roles of the region's functions, CloudFormation
stacks, REST APIs, S3 buckets and resource tags."""

from __future__ import annotations

import json
from typing import Any

import boto3

from relaudit.demo.seed import ASSUME_LAMBDA

REGION = "us-east-1"


def _function(name: str, role_arn: str) -> str:
    code = {"ZipFile": b"PK\x05\x06" + b"\x00" * 18}  # an empty zip archive
    lam = boto3.client("lambda", region_name=REGION)
    arn: str = lam.create_function(FunctionName=name, Runtime="python3.12", Role=role_arn, Handler="a.b", Code=code)[
        "FunctionArn"
    ]
    return arn


def test_roles_of_the_regions_functions_with_inline_and_managed_statements(aws: None, collect: Any, calls: Any) -> None:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=ASSUME_LAMBDA)["Role"]["Arn"]
    iam.create_role(RoleName="unused", AssumeRolePolicyDocument=ASSUME_LAMBDA)
    for index in range(3):
        statement = {
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": f"arn:aws:sqs:{REGION}:123456789012:q{index}",
        }
        iam.put_role_policy(
            RoleName="worker",
            PolicyName=f"p{index}",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statement}),
        )
    managed = iam.create_policy(
        PolicyName="deny-table",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "NotAction": ["dynamodb:GetItem"],
                        "Resource": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="worker", PolicyArn=managed)
    _function("a", role)
    _function("b", role)
    seen = calls("iam")

    docs = collect("AWS::IAM::Role")

    assert list(docs) == ["worker"]  # once, though two functions use it; the unused role not read
    statements = docs["worker"].properties["Statements"]
    assert {s["Resource"][0].rsplit(":", 1)[-1] for s in statements if s["Effect"] == "Allow"} == {"q0", "q1", "q2"}
    assert {"Effect": "Deny", "NotAction": ["dynamodb:GetItem"], "Resource": ["*"], "HasCondition": True} in statements
    assert seen.count("ListRolePolicies") == 1  # one role read once (moto ignores MaxItems: one page)
    assert seen.count("GetPolicyVersion") == 1


def test_stacks_with_their_resources_and_nested_stacks_named_by_their_root(aws: None, collect: Any) -> None:
    cfn = boto3.client("cloudformation", region_name=REGION)
    template = {"Resources": {f"Q{i}": {"Type": "AWS::SQS::Queue", "Properties": {}} for i in range(3)}}
    cfn.create_stack(StackName="shop", TemplateBody=json.dumps(template))

    docs = collect("AWS::CloudFormation::Stack")

    shop = docs["shop"]
    assert shop.arn.startswith(f"arn:aws:cloudformation:{REGION}:123456789012:stack/shop/")
    assert sorted(r["LogicalResourceId"] for r in shop.properties["Resources"]) == ["Q0", "Q1", "Q2"]
    assert all(r["PhysicalResourceId"].startswith("https://sqs.") for r in shop.properties["Resources"])


def test_rest_apis_with_integrations_and_request_contracts(aws: None, collect: Any) -> None:
    apigw = boto3.client("apigateway", region_name=REGION)
    api = apigw.create_rest_api(name="shop")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    validator = apigw.create_request_validator(restApiId=api, name="body", validateRequestBody=True)["id"]
    apigw.put_method(
        restApiId=api, resourceId=root, httpMethod="POST", authorizationType="NONE", requestValidatorId=validator
    )
    uri = f"arn:aws:apigateway:{REGION}:sqs:path/123456789012/orders"
    apigw.put_integration(
        restApiId=api, resourceId=root, httpMethod="POST", type="AWS", integrationHttpMethod="POST", uri=uri
    )

    (method,) = collect("AWS::ApiGateway::RestApi")["shop"].properties["Methods"]

    assert method["RequestValidatorId"] == validator
    assert (method["IntegrationType"], method["IntegrationUri"]) == ("AWS", uri)


def test_buckets_of_the_region_with_their_notifications(aws: None, collect: Any) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="uploads-here")
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="uploads-there", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="incoming")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:123456789012:incoming"
    assert queue.endswith("/incoming")
    s3.put_bucket_notification_configuration(
        Bucket="uploads-here",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )

    docs = collect("AWS::S3::Bucket")

    assert list(docs) == ["uploads-here"]
    (config,) = docs["uploads-here"].properties["NotificationConfiguration"]["QueueConfigurations"]
    assert config["QueueArn"] == queue_arn


def test_tags_of_every_tagged_resource_in_pages(aws: None, collect: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for index in range(3):
        sqs.create_queue(QueueName=f"q{index}", tags={"team": f"t{index}"})
    sqs.create_queue(QueueName="untagged")

    (doc,) = collect("AWS::ResourceGroupsTaggingAPI::TaggedResources").values()

    tags = {r["ResourceARN"].rsplit(":", 1)[-1]: r["Tags"] for r in doc.properties["Resources"]}
    assert tags == {"q0": {"team": "t0"}, "q1": {"team": "t1"}, "q2": {"team": "t2"}}
