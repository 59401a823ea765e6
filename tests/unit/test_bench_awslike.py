"""The benchmark's fake-AWS middleware: it names each call right, throttles per bucket, and its
throttling errors reach botocore as the codes AWS uses (so retries behave as against AWS)."""

from __future__ import annotations

import contextlib
import io
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.bench.awslike import AwsLikeMiddleware, Call, Classifier, throttle_response
from tests.unit.test_ratelimit import FakeClock


def _ok_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A stand-in for moto: 200 with an empty document in the request's protocol."""
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        start_response("200 OK", [("Content-Type", "text/xml")])
        return [b"<Response/>"]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


class _Raw:
    def __init__(self, chunks: list[bytes]) -> None:
        self._body = b"".join(chunks)

    def stream(self, **_: Any) -> Any:
        yield self._body


def _environ(request: Any) -> dict[str, Any]:
    url = urlsplit(request.url)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": url.path,
        "RAW_URI": url.path + (f"?{url.query}" if url.query else ""),
        "QUERY_STRING": url.query,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": request.headers.get("Content-Type", b"").decode()
        if isinstance(request.headers.get("Content-Type"), bytes)
        else request.headers.get("Content-Type", ""),
        "wsgi.input": io.BytesIO(body),
    }
    for name, value in request.headers.items():
        text = value.decode() if isinstance(value, bytes) else value
        environ["HTTP_" + name.upper().replace("-", "_")] = text
    return environ


def _wire(client: Any, middleware: AwsLikeMiddleware) -> None:
    """Send the client's requests through the middleware in-process (no socket)."""

    def send(request: Any, **_: Any) -> AWSResponse:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            captured["status"], captured["headers"] = status, headers

        chunks = list(middleware(_environ(request), start_response))
        return AWSResponse(request.url, int(captured["status"].split()[0]), dict(captured["headers"]), _Raw(chunks))

    client.meta.events.register_first("before-send", send)


@pytest.fixture
def session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="AKIDBENCH", aws_secret_access_key="s", region_name="eu-west-1")


def _client(session: boto3.session.Session, service: str, middleware: AwsLikeMiddleware) -> Any:
    client = session.client(service, config=Config(retries={"total_max_attempts": 1}))  # type: ignore[call-overload]
    _wire(client, middleware)
    return client


@pytest.fixture
def middleware() -> AwsLikeMiddleware:
    clock = FakeClock()
    return AwsLikeMiddleware(_ok_app, latency=(0.0, 0.0), clock=clock, sleep=clock.sleep, classifier=CLASSIFIER)


CLASSIFIER = Classifier()


@pytest.mark.parametrize(
    ("service", "call", "expected"),
    [
        ("lambda", lambda c: c.get_function(FunctionName="arn:aws:lambda:eu-west-1:1:function:f"), "GetFunction"),
        ("lambda", lambda c: c.list_functions(), "ListFunctions"),
        ("lambda", lambda c: c.get_function_event_invoke_config(FunctionName="f"), "GetFunctionEventInvokeConfig"),
        ("apigateway", lambda c: c.get_stages(restApiId="abc"), "GetStages"),
        ("apigateway", lambda c: c.get_rest_apis(), "GetRestApis"),
        ("apigatewayv2", lambda c: c.get_stages(ApiId="abc"), "GetStages"),
        ("sqs", lambda c: c.list_queues(), "ListQueues"),
        ("sts", lambda c: c.get_caller_identity(), "GetCallerIdentity"),
    ],
)
def test_classifies_rest_json_and_query_calls(
    session: boto3.session.Session, middleware: AwsLikeMiddleware, service: str, call: Any, expected: str
) -> None:
    client = _client(session, service, middleware)
    with contextlib.suppress(Exception):  # the stand-in's empty answer need not parse: classifying is the point
        call(client)
    assert list(middleware.stats.calls) == [("eu-west-1", service, expected)]


def test_classifies_query_services_that_share_a_signing_name() -> None:
    scope = "AK/20250101/ap-southeast-2/elasticloadbalancing/aws4_request"
    environ = {
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={scope}",
        "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
    }
    v2 = CLASSIFIER.classify(environ, b"Action=DescribeLoadBalancers&Version=2015-12-01")
    v1 = CLASSIFIER.classify(environ, b"Action=DescribeLoadBalancers&Version=2012-06-01")
    assert v2 == Call("AK", "ap-southeast-2", "elbv2", "DescribeLoadBalancers", "query")
    assert v1 is not None and v1.service == "elb"
    ec2 = {**environ, "HTTP_AUTHORIZATION": environ["HTTP_AUTHORIZATION"].replace("elasticloadbalancing", "ec2")}
    unfiltered = CLASSIFIER.classify(ec2, b"Action=DescribeInstances&Version=2016-11-15")
    paged = CLASSIFIER.classify(ec2, b"Action=DescribeInstances&Version=2016-11-15&MaxResults=5")
    assert unfiltered is not None and unfiltered.unfiltered
    assert paged is not None and not paged.unfiltered
    assert CLASSIFIER.classify({}, b"") is None  # unsigned: not an AWS call


@pytest.mark.parametrize(
    ("service", "operation", "call", "burst", "code", "status"),
    [
        ("lambda", "ListFunctions", lambda c: c.list_functions(), 15, "TooManyRequestsException", 429),
        ("apigateway", "GetRestApis", lambda c: c.get_rest_apis(), 40, "TooManyRequestsException", 429),
        ("elbv2", "DescribeLoadBalancers", lambda c: c.describe_load_balancers(), 40, "Throttling", 400),
        ("rds", "DescribeDBInstances", lambda c: c.describe_db_instances(), 300, "Throttling", 400),
        ("ec2", "DescribeSubnets", lambda c: c.describe_subnets(MaxResults=5), 100, "RequestLimitExceeded", 503),
        ("dynamodb", "ListTables", lambda c: c.list_tables(), 2500, "ThrottlingException", 400),
    ],
)
def test_throttles_after_the_burst_with_the_code_aws_uses(
    session: boto3.session.Session,
    middleware: AwsLikeMiddleware,
    service: str,
    operation: str,
    call: Any,
    burst: int,
    code: str,
    status: int,
) -> None:
    client = _client(session, service, middleware)
    drain = Call("AKIDBENCH", "eu-west-1", service, operation, "-")
    assert all(middleware.admit(drain) for _ in range(burst))  # the clock is frozen: no refill
    with pytest.raises(ClientError) as caught:
        call(client)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert sum(middleware.stats.throttled.values()) == 1


def test_bucket_refills_on_the_clock_and_other_regions_are_independent() -> None:
    clock = FakeClock()
    middleware = AwsLikeMiddleware(_ok_app, latency=(0.0, 0.0), clock=clock, sleep=clock.sleep, classifier=CLASSIFIER)
    call = Call("AK", "us-east-1", "lambda", "ListFunctions", "rest-json")
    assert all(middleware.admit(call) for _ in range(15))
    assert not middleware.admit(call)
    assert middleware.admit(Call("AK", "eu-west-1", "lambda", "ListFunctions", "rest-json"))
    assert middleware.admit(Call("AK", "us-east-1", "lambda", "GetFunction", "rest-json"))
    clock.now += 1 / 15
    assert middleware.admit(call)
    middleware.throttle = False
    assert all(middleware.admit(call) for _ in range(100))


def test_latency_is_split_around_the_call_and_counted() -> None:
    clock = FakeClock()
    middleware = AwsLikeMiddleware(_ok_app, latency=(0.04, 0.04), clock=clock, sleep=clock.sleep, classifier=CLASSIFIER)
    environ = {
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/rds/aws4_request",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": "45",
        "wsgi.input": io.BytesIO(b"Action=DescribeDBInstances&Version=2014-10-31"),
    }
    statuses: list[str] = []
    body = middleware(environ, lambda status, headers: statuses.append(status))
    assert list(body) == [b"<Response/>"]
    assert statuses == ["200 OK"]
    assert clock.slept == pytest.approx([0.02, 0.02])
    assert middleware.stats.calls == {("us-east-1", "rds", "DescribeDBInstances"): 1}
    assert middleware.stats.latency_seconds == pytest.approx(0.04)


def test_throttle_bodies_per_protocol() -> None:
    status, headers, body = throttle_response(Call("a", "r", "sqs", "ListQueues", "json"))
    assert status.startswith("400") and b'"__type": "ThrottlingException"' in body
    assert ("x-amzn-query-error", "ThrottlingException;Sender") in headers
