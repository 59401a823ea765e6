"""Client-side rate limits: token buckets on an injected clock, bucket choice, and the botocore hook."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from relaudit.aws import ClientFactory
from relaudit.ratelimit import Rate, RateLimiter, TokenBucket, buckets_for, ec2_call_is_unfiltered


class FakeClock:
    """A clock that moves only when told; sleep() advances it and records the wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_serves_its_burst_then_hands_out_slots_at_the_refill_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Rate(10, 3), clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert [round(bucket.reserve(), 6) for _ in range(3)] == [0.1, 0.2, 0.3]
    clock.now += 0.3  # the three reservations above are now due; nothing is left over
    assert round(bucket.reserve(), 6) == 0.1
    clock.now += 10  # a long idle refills only up to the burst
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() > 0


def test_try_take_refuses_without_going_into_debt() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Rate(2, 2), clock)
    assert [bucket.try_take() for _ in range(3)] == [True, True, False]
    clock.now += 0.49
    assert not bucket.try_take()  # 0.98 of a token is not a token
    clock.now += 0.01
    assert bucket.try_take()


def test_bucket_rejects_a_shape_that_would_never_serve() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(Rate(0, 5), FakeClock())


def test_limiter_runs_under_the_documented_rate_by_its_headroom() -> None:
    clock = FakeClock()
    limiter = RateLimiter(headroom=0.9, clock=clock, sleep=clock.sleep)
    # Lambda control plane: 15/s documented, so 13 at once and then one every 1/13.5 s.
    waits = [limiter.acquire("111122223333", "us-east-1", "lambda", "ListFunctions") for _ in range(15)]
    assert waits[:13] == [0.0] * 13
    assert waits[13] == pytest.approx(1 / 13.5)
    assert clock.slept == pytest.approx([1 / 13.5, 1 / 13.5])
    stats = limiter.stats()[("111122223333", "us-east-1", "lambda:control-plane")]
    assert (stats.calls, stats.waited_calls) == (15, 2)


def test_buckets_are_per_account_region_and_api_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(headroom=1.0, clock=clock, sleep=clock.sleep)
    for _ in range(15):
        limiter.acquire("a", "us-east-1", "lambda", "GetFunctionEventInvokeConfig")
    # The same bucket is empty now ...
    assert limiter.reserve("a", "us-east-1", "lambda", "ListFunctions") > 0
    # ... but GetFunction has a bucket of its own, and other regions and accounts are untouched.
    assert limiter.reserve("a", "us-east-1", "lambda", "GetFunction") == 0
    assert limiter.reserve("a", "eu-west-1", "lambda", "ListFunctions") == 0
    assert limiter.reserve("b", "us-east-1", "lambda", "ListFunctions") == 0
    assert clock.slept == []


def test_concurrent_threads_each_get_their_own_slot() -> None:
    clock = FakeClock()  # frozen: every thread reserves at the same instant
    limiter = RateLimiter(headroom=1.0, clock=clock, sleep=lambda _: None)
    delays: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        delay = limiter.reserve("a", "us-east-1", "elbv2", "DescribeTargetHealth")
        with lock:
            delays.append(delay)

    threads = [threading.Thread(target=call) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # ELBv2: burst 40, then 10/s: 20 distinct slots 0.1 s apart, no two threads on one token.
    assert sorted(round(d, 6) for d in delays) == [0.0] * 40 + [round(0.1 * k, 6) for k in range(1, 21)]


@pytest.mark.parametrize(
    ("service", "operation", "unfiltered", "expected"),
    [
        ("lambda", "GetFunction", False, [("lambda:GetFunction", 100, 100)]),
        ("lambda", "GetFunctionConcurrency", False, [("lambda:control-plane", 15, 15)]),
        ("rds", "DescribeDBInstances", False, [("rds", 12, 300)]),
        ("elbv2", "DescribeLoadBalancers", False, [("elbv2", 10, 40)]),
        ("apigatewayv2", "GetStages", False, [("apigateway", 10, 40)]),
        ("apigateway", "GetResources", False, [("apigateway:GetResources", 2.5, 5), ("apigateway", 10, 40)]),
        ("ec2", "DescribeSubnets", False, [("ec2:DescribeSubnets", 20, 100)]),
        ("ec2", "DescribeInstances", True, [("ec2:DescribeInstances:unfiltered", 10, 50)]),
        ("ec2", "DescribeSubnets", True, [("ec2:DescribeSubnets", 20, 100)]),  # not in the unfiltered list
        ("ec2", "RunInstances", False, []),
        ("dynamodb", "DescribeTable", False, [("dynamodb:control-plane", 2500, 2500)]),
        ("dynamodb", "BatchWriteItem", False, []),
        ("kafka", "ListClusters", False, []),
    ],
)
def test_bucket_table(service: str, operation: str, unfiltered: bool, expected: list[tuple[str, float, float]]) -> None:
    buckets = buckets_for(service, operation, unfiltered)
    assert [(b.name, b.rate.per_second, b.rate.burst) for b in buckets] == expected


@pytest.mark.parametrize(
    ("body", "unfiltered"),
    [
        ("Action=DescribeInstances&Version=2016-11-15", True),
        ("Action=DescribeInstances&Version=2016-11-15&MaxResults=1000", False),
        ("Action=DescribeInstances&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1", False),
        (b"Action=DescribeVolumes&VolumeId.1=vol-1", False),
        (None, True),
    ],
)
def test_ec2_unfiltered_detection(body: Any, unfiltered: bool) -> None:
    assert ec2_call_is_unfiltered(body) is unfiltered


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _answer_locally(client: Any, body: bytes = b"{}") -> list[str]:
    """Answer every attempt with ``body`` in before-send (after the limiter's hook); return the ops."""
    sent: list[str] = []

    def answer(request: Any, event_name: str = "", **_: Any) -> AWSResponse:
        sent.append(event_name.rsplit(".", 1)[-1])
        return AWSResponse(request.url, 200, {}, _Raw(body))

    client.meta.events.register("before-send", answer)
    return sent


def test_factory_clients_wait_on_the_shared_limiter_before_every_attempt() -> None:
    clock = FakeClock()
    limiter = RateLimiter(headroom=1.0, clock=clock, sleep=clock.sleep)
    session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="eu-west-1")
    config = Config(retries={"total_max_attempts": 1})
    factory = ClientFactory(session=session, config=config, limiter=limiter, scope="111122223333")
    other = ClientFactory(session=session, config=config, limiter=limiter, scope="111122223333")
    lam = factory.client("lambda")
    sent = _answer_locally(lam, b'{"Functions": []}')
    for _ in range(10):
        lam.list_functions()
    lam2 = other.client("lambda")  # another factory of the same account shares the bucket
    _answer_locally(lam2, b'{"Functions": []}')
    for _ in range(7):
        lam2.list_functions()
    assert sent == ["ListFunctions"] * 10
    assert len(clock.slept) == 2  # 17 calls against a burst of 15
    assert factory.limiter is limiter
    stats = limiter.stats()[("111122223333", "eu-west-1", "lambda:control-plane")]
    assert stats.calls == 17


def test_factory_default_limiter_is_private_to_the_factory() -> None:
    session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")
    first, second = ClientFactory(session=session), ClientFactory(session=session)
    assert first.limiter is not second.limiter
    assert RateLimiter.disabled().reserve("a", "us-east-1", "lambda", "ListFunctions") == 0.0


def test_batch_import_findings_has_one_pacer_the_sinks() -> None:
    assert buckets_for("securityhub", "BatchImportFindings") == ()
    assert buckets_for("securityhub", "GetFindings"), "other Security Hub reads keep their bucket"
