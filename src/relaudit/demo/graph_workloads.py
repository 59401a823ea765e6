"""Five CloudFormation stacks whose interactions the workload graph checks judge.

- ``shop-api``: a REST API -> function ``api`` -> (its role may invoke) ``pricing`` -> writes table
  ``orders``: a synchronous chain of three from the API.
- ``billing``: queue ``invoices`` (fed by topic ``billing-events`` and bucket ``billing-uploads``,
  no redrive) -> ``invoicer``, which writes
  ``orders`` too (a table written by two workloads); a scheduled rule -> ``reporter`` with no DLQ
  and no on-failure destination anywhere (an asynchronous path that loses failures).
- ``jobs``: queue ``jobs`` -> ``worker``, whose role may send to ``jobs`` (a recursive loop).
- ``ledger``: a clean workload: queue with redrive -> function that keeps idempotency records.
- ``fulfilment``: REST API ``fulfil`` (stage ``prod`` admits a burst of 20) -> ``charge``
  (reserved concurrency 10: the API admits more than it can run) and ``status`` (25: enough); and
  the workflow ``fulfil-order``, deployed apart from the stack by another team, whose Task states
  invoke ``charge`` (by name, retried), send to queue ``shipments``, wait on ``pack`` for a task
  token inside a Map, write table ``fulfilments``, put events on the default bus and publish to a
  topic named at run time (no edge). Another workload's workflow waits on ``charge`` and ``pack``.

Each stack is deployed with CreateStack, as a user would; the SNS subscription, the REST stage and
the state machine are made with plain calls (moto's CloudFormation skips AWS::SNS::Subscription,
AWS::ApiGateway::Stage and AWS::StepFunctions::StateMachine).
"""

from __future__ import annotations

import json
from typing import Any

from relaudit.demo.seed import ClientMaker, Planted, throttle_stage

_CODE = {"ZipFile": "def handler(event, context):\n    return event\n"}
_ASSUME = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
_LOGS = {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}


def _function(logical: str, name: str, timeout: int = 10, reserved: int | None = None) -> dict[str, Any]:
    """A function and its role (``<logical>Role``); ``reserved``: its reserved concurrency."""
    concurrency = {} if reserved is None else {"ReservedConcurrentExecutions": reserved}
    return {
        f"{logical}Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": _ASSUME}},
        logical: {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": name,
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Timeout": timeout,
                "Role": {"Fn::GetAtt": [f"{logical}Role", "Arn"]},
                "Code": _CODE,
                **concurrency,
            },
        },
    }


def _policy(logical: str, *statements: dict[str, Any]) -> dict[str, Any]:
    # An AWS::IAM::Policy, not the role's inline Policies: moto stores those as a Python repr.
    return {
        f"{logical}Policy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": f"{logical}-policy",
                "Roles": [{"Ref": f"{logical}Role"}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [_LOGS, *statements]},
            },
        }
    }


def _mapping(logical: str, queue: str, function: str) -> dict[str, Any]:
    return {
        logical: {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"FunctionName": {"Ref": function}, "EventSourceArn": {"Fn::GetAtt": [queue, "Arn"]}},
        }
    }


def _table(name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    }


def _invoke_uri(function: str) -> dict[str, Any]:
    """The Lambda integration URI of the stack's function ``function`` (logical id)."""
    path = "lambda:path/2015-03-31/functions"
    return {"Fn::Sub": f"arn:aws:apigateway:${{AWS::Region}}:{path}/${{{function}.Arn}}/invocations"}


def shop_api(prefix: str) -> dict[str, Any]:
    """The API stack (its table ``<prefix>orders`` is exported by name for ``billing``)."""
    invoke = _invoke_uri("Api")
    return {
        "Resources": {
            **_function("Api", f"{prefix}api"),
            **_policy(
                "Api",
                {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Fn::GetAtt": ["Pricing", "Arn"]}},
            ),
            **_function("Pricing", f"{prefix}pricing", timeout=5),
            **_policy(
                "Pricing",
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"],
                    "Resource": {"Fn::GetAtt": ["Orders", "Arn"]},
                },
            ),
            "Orders": _table(f"{prefix}orders"),
            "RestApi": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": f"{prefix}shop"}},
            "OrdersResource": {
                "Type": "AWS::ApiGateway::Resource",
                "Properties": {
                    "RestApiId": {"Ref": "RestApi"},
                    "ParentId": {"Fn::GetAtt": ["RestApi", "RootResourceId"]},
                    "PathPart": "orders",
                },
            },
            "OrdersGet": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "RestApi"},
                    "ResourceId": {"Ref": "OrdersResource"},
                    "HttpMethod": "GET",
                    "AuthorizationType": "NONE",
                    "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": invoke},
                },
            },
        }
    }


def billing(prefix: str, orders_table_arn: str) -> dict[str, Any]:
    """The billing stack: it writes the API stack's orders table."""
    return {
        "Resources": {
            **_function("Invoicer", f"{prefix}invoicer", timeout=30),
            **_policy("Invoicer", {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": orders_table_arn}),
            "Invoices": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": f"{prefix}invoices", "VisibilityTimeout": 180},
            },
            **_mapping("InvoicesMapping", "Invoices", "Invoicer"),
            "Events": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{prefix}billing-events"}},
            "Uploads": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"{prefix}billing-uploads"}},
            **_function("Reporter", f"{prefix}reporter"),
            **_policy("Reporter"),
            "Nightly": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": f"{prefix}nightly",
                    "ScheduleExpression": "rate(1 day)",
                    "Targets": [{"Id": "reporter", "Arn": {"Fn::GetAtt": ["Reporter", "Arn"]}}],
                },
            },
        }
    }


def jobs(prefix: str) -> dict[str, Any]:
    """The jobs stack: a worker that re-enqueues into the queue it polls."""
    return {
        "Resources": {
            **_function("Worker", f"{prefix}worker"),
            **_policy(
                "Worker", {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Jobs", "Arn"]}}
            ),
            "JobsDlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{prefix}jobs-dlq"}},
            "Jobs": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": f"{prefix}jobs",
                    "VisibilityTimeout": 60,
                    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["JobsDlq", "Arn"]}, "maxReceiveCount": 5},
                },
            },
            **_mapping("JobsMapping", "Jobs", "Worker"),
        }
    }


def ledger(prefix: str) -> dict[str, Any]:
    """The clean stack: redrive on its queue, idempotency records for its consumer."""
    return {
        "Resources": {
            **_function("Posting", f"{prefix}posting"),
            **_policy(
                "Posting",
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                    "Resource": {"Fn::GetAtt": ["Idempotency", "Arn"]},
                },
            ),
            "Idempotency": _table(f"{prefix}ledger-IdempotencyTable"),
            "PostingsDlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{prefix}postings-dlq"}},
            "Postings": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": f"{prefix}postings",
                    "VisibilityTimeout": 60,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["PostingsDlq", "Arn"]},
                        "maxReceiveCount": 5,
                    },
                },
            },
            **_mapping("PostingsMapping", "Postings", "Posting"),
        }
    }


def _lambda_method(logical: str, path: str, verb: str, function: str) -> dict[str, Any]:
    """A resource of the stack's REST API ``Api`` and a method integrating ``function`` (logical id)."""
    invoke = _invoke_uri(function)
    return {
        f"{logical}Resource": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "PathPart": path,
            },
        },
        f"{logical}Method": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Ref": f"{logical}Resource"},
                "HttpMethod": verb,
                "AuthorizationType": "NONE",
                "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": invoke},
            },
        },
    }


def fulfilment(prefix: str) -> dict[str, Any]:
    """The fulfilment stack: an API in front of reserved functions, and what its workflow calls."""
    return {
        "Resources": {
            **_function("Charge", f"{prefix}charge", reserved=10),
            **_function("Status", f"{prefix}status", reserved=25),
            **_function("Pack", f"{prefix}pack"),
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": f"{prefix}fulfil"}},
            **_lambda_method("Orders", "orders", "POST", "Charge"),
            **_lambda_method("Tracking", "status", "GET", "Status"),
            "Shipments": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{prefix}shipments"}},
            "Fulfilments": _table(f"{prefix}fulfilments"),
        }
    }


def fulfil_order(prefix: str, pack_arn: str, queue_url: str) -> dict[str, Any]:
    """The workflow's definition: each Task form the graph reads (a name, a qualified ARN, a queue
    URL, a table name, the default bus), nested in a Parallel and a Map, and one it cannot (a
    topic chosen at run time)."""
    retry = [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2}]
    return {
        "StartAt": "Charge",
        "States": {
            "Charge": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": f"{prefix}charge", "Payload.$": "$"},
                "Retry": retry,
                "Next": "Ship",
            },
            "Ship": {
                "Type": "Parallel",
                "Next": "Record",
                "Branches": [
                    {
                        "StartAt": "Enqueue",
                        "States": {
                            "Enqueue": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::sqs:sendMessage",
                                "Parameters": {"QueueUrl": queue_url, "MessageBody.$": "$"},
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "EachItem",
                        "States": {
                            "EachItem": {
                                "Type": "Map",
                                "ItemsPath": "$.items",
                                "End": True,
                                "ItemProcessor": {
                                    "StartAt": "Pack",
                                    "States": {
                                        "Pack": {
                                            "Type": "Task",
                                            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                                            "Parameters": {
                                                "FunctionName": f"{pack_arn}:$LATEST",
                                                "Payload": {"token.$": "$$.Task.Token"},
                                            },
                                            "TimeoutSeconds": 3600,
                                            "End": True,
                                        }
                                    },
                                },
                            }
                        },
                    },
                ],
            },
            "Record": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": f"{prefix}fulfilments", "Item": {"pk": {"S.$": "$.id"}}},
                "Next": "Announce",
            },
            "Announce": {
                "Type": "Task",
                "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {"Entries": [{"Source": "fulfilment", "DetailType": "shipped", "Detail.$": "$"}]},
                "Next": "Notify",
            },
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn.$": "$.topic", "Message.$": "$"},
                "End": True,
            },
        },
    }


# (check id, resource name) -> status the graph checks must give the seeded resources.
EXPECTED = {
    ("lambda-function-sync-chain-shallow", "api"): "FAILED",
    ("dynamodb-table-single-writer-workload", "orders"): "FAILED",
    ("lambda-function-async-path-failure-captured", "reporter"): "FAILED",
    ("lambda-function-async-path-failure-captured", "invoicer"): "FAILED",
    ("lambda-function-no-recursive-loop", "worker"): "FAILED",
    ("lambda-function-at-least-once-idempotency-evidence", "invoicer"): "FAILED",
    ("lambda-function-at-least-once-idempotency-evidence", "reporter"): "FAILED",
    ("lambda-function-at-least-once-idempotency-evidence", "worker"): "FAILED",
    ("lambda-function-sync-callee-timeout-within", "api"): "PASSED",
    ("lambda-function-retry-amplification-bounded", "pricing"): "PASSED",
    ("lambda-function-sync-callers-same-workload", "pricing"): "PASSED",
    ("lambda-function-async-path-failure-captured", "posting"): "PASSED",
    ("lambda-function-no-recursive-loop", "posting"): "PASSED",
    ("lambda-function-at-least-once-idempotency-evidence", "posting"): "PASSED",
    ("dynamodb-table-single-writer-workload", "ledger-IdempotencyTable"): "PASSED",
    ("lambda-function-reserved-concurrency-covers-api-burst", "charge"): "FAILED",
    ("lambda-function-reserved-concurrency-covers-api-burst", "status"): "PASSED",
    ("lambda-function-sync-callers-same-workload", "charge"): "FAILED",
    ("lambda-function-sync-callers-same-workload", "pack"): "FAILED",
    ("lambda-function-sync-chain-shallow", "charge"): "PASSED",
    ("lambda-function-retry-amplification-bounded", "charge"): "PASSED",
    ("dynamodb-table-single-writer-workload", "fulfilments"): "PASSED",
}


def deploy(client: ClientMaker, region: str, prefix: str = "") -> list[Planted]:
    """Create the five stacks (and the subscription, the REST stage and the workflow) in ``region``;
    the Planted rows they must give."""
    cfn = client("cloudformation", region)

    def create(name: str, template: dict[str, Any]) -> None:
        cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"])

    create(f"{prefix}shop-api", shop_api(prefix))
    orders = client("dynamodb", region).describe_table(TableName=f"{prefix}orders")["Table"]["TableArn"]
    create(f"{prefix}billing", billing(prefix, orders))
    create(f"{prefix}jobs", jobs(prefix))
    create(f"{prefix}ledger", ledger(prefix))
    create(f"{prefix}fulfilment", fulfilment(prefix))
    sqs = client("sqs", region)
    queue_url = sqs.get_queue_url(QueueName=f"{prefix}invoices")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns = client("sns", region)
    topic = sns.create_topic(Name=f"{prefix}billing-events")["TopicArn"]  # idempotent: the stack's topic
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    # Set with a plain call: moto's CloudFormation does not apply a bucket's NotificationConfiguration.
    client("s3", region).put_bucket_notification_configuration(
        Bucket=f"{prefix}billing-uploads",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    _fulfilment_beside_the_stack(client, region, prefix)
    return [Planted(region, check_id, f"{prefix}{name}", expect) for (check_id, name), expect in EXPECTED.items()]


def _fulfilment_beside_the_stack(client: ClientMaker, region: str, prefix: str) -> None:
    """The fulfilment API's stage (a burst of 20 for every method) and its workflow."""
    apigw = client("apigateway", region)
    (api,) = [a["id"] for a in apigw.get_rest_apis()["items"] if a["name"] == f"{prefix}fulfil"]
    apigw.create_deployment(restApiId=api, stageName="prod")
    throttle_stage(apigw, api, "prod", rate=50, burst=20)
    lam = client("lambda", region)
    pack = lam.get_function(FunctionName=f"{prefix}pack")["Configuration"]
    queue_url = client("sqs", region).get_queue_url(QueueName=f"{prefix}shipments")["QueueUrl"]
    client("stepfunctions", region).create_state_machine(
        name=f"{prefix}fulfil-order",
        definition=json.dumps(fulfil_order(prefix, pack["FunctionArn"], queue_url)),
        roleArn=pack["Role"],
    )
