"""Client-side token buckets per (account, region, API bucket) at the request rates AWS documents."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

# Rates: /work/shared/reference/aws-limits-and-audit-physics.md §1 (AWS docs, summarized there).
# "est" marks a rate AWS does not publish; it is a guess to keep bursts sane, not a measured value.


@dataclass(frozen=True)
class Rate:
    """A token bucket's shape: ``per_second`` refill and ``burst`` capacity."""

    per_second: float
    burst: float
    source: str = "doc"  # "doc": AWS documents it; "est": an estimate (AWS publishes no number)


@dataclass(frozen=True)
class Bucket:
    """A named bucket; calls naming the same bucket in one (account, region) share its tokens."""

    name: str
    rate: Rate


EC2_DESCRIBE = Rate(20, 100)
EC2_UNFILTERED = Rate(10, 50)
# EC2 charges these to a smaller bucket when sent with neither MaxResults nor a filter or id.
EC2_UNFILTERED_OPERATIONS = frozenset(
    {
        "DescribeInstances",
        "DescribeInstanceStatus",
        "DescribeNetworkInterfaces",
        "DescribeSecurityGroups",
        "DescribeSnapshots",
        "DescribeSpotInstanceRequests",
        "DescribeVolumes",
    }
)
_EC2_READ_PREFIXES = ("Describe", "List", "Get", "Search")

# Services whose every operation shares one bucket (per account and region).
SERVICE_BUCKETS: dict[str, Bucket] = {
    "rds": Bucket("rds", Rate(12, 300)),
    "elbv2": Bucket("elbv2", Rate(10, 40)),
    "elb": Bucket("elb", Rate(10, 40)),
    "lambda": Bucket("lambda:control-plane", Rate(15, 15)),  # burst undocumented: one second's worth
    "apigateway": Bucket("apigateway", Rate(10, 40)),
    "apigatewayv2": Bucket("apigateway", Rate(10, 40)),  # the management quota covers v2 too
    "autoscaling": Bucket("autoscaling", Rate(20, 40, "est")),  # "a shared API bucket", no number
    "sqs": Bucket("sqs", Rate(100, 100, "est")),  # no published control-plane rate
    "sts": Bucket("sts", Rate(50, 50, "est")),
    "events": Bucket("events", Rate(50, 50)),
    "securityhub": Bucket("securityhub", Rate(10, 30)),
    "service-quotas": Bucket("service-quotas", Rate(5, 5)),
    "account": Bucket("account", Rate(5, 5)),
    "resource-explorer-2": Bucket("resource-explorer-2", Rate(3, 3)),
    "iam": Bucket("iam", Rate(20, 20, "est")),  # no published rate; IAM throttles per account
}
# Global services: one bucket per account whichever region a client is bound to.
GLOBAL_SERVICES = frozenset({"iam"})

# Operations with a bucket of their own; listed buckets are all charged (API Gateway's
# GetResources draws on its own 5-per-2-seconds quota and on the service-wide 10/s).
OPERATION_BUCKETS: dict[tuple[str, str], tuple[Bucket, ...]] = {
    ("lambda", "GetFunction"): (Bucket("lambda:GetFunction", Rate(100, 100)),),
    ("lambda", "GetPolicy"): (Bucket("lambda:GetPolicy", Rate(15, 15)),),
    ("apigateway", "GetResources"): (
        Bucket("apigateway:GetResources", Rate(2.5, 5)),
        SERVICE_BUCKETS["apigateway"],
    ),
    ("sns", "ListTopics"): (Bucket("sns:ListTopics", Rate(30, 30)),),
    ("sns", "ListSubscriptions"): (Bucket("sns:ListSubscriptions", Rate(30, 30)),),
    ("sns", "ListSubscriptionsByTopic"): (Bucket("sns:ListSubscriptionsByTopic", Rate(30, 30)),),
    ("securityhub", "GetFindings"): (Bucket("securityhub:GetFindings", Rate(3, 6)),),
    ("service-quotas", "ListServiceQuotas"): (Bucket("service-quotas:ListServiceQuotas", Rate(10, 10)),),
    ("service-quotas", "ListAWSDefaultServiceQuotas"): (
        Bucket("service-quotas:ListAWSDefaultServiceQuotas", Rate(10, 10)),
    ),
    ("resource-explorer-2", "Search"): (Bucket("resource-explorer-2:Search", Rate(5, 5)),),
}

DYNAMODB_CONTROL_PLANE = Bucket("dynamodb:control-plane", Rate(2500, 2500))
_DYNAMODB_CONTROL_PREFIXES = ("List", "Describe", "Create", "Delete", "Update", "Tag", "Untag")
_DYNAMODB_DATA_OPERATIONS = frozenset({"UpdateItem", "DeleteItem"})


def buckets_for(service: str, operation: str, unfiltered: bool = False) -> tuple[Bucket, ...]:
    """The buckets one call is charged to (empty: AWS documents no rate we enforce).

    Args:
        service: botocore service name (``lambda``, ``elbv2``, ``ec2``, ...).
        operation: API operation name (``GetFunction``).
        unfiltered: For EC2, the call carries neither MaxResults nor a filter nor ids.
    """
    specific = OPERATION_BUCKETS.get((service, operation))
    if specific is not None:
        return specific
    if service == "ec2":
        if not operation.startswith(_EC2_READ_PREFIXES):
            return ()  # mutating calls: other buckets; the auditor makes none
        if unfiltered and operation in EC2_UNFILTERED_OPERATIONS:
            return (Bucket(f"ec2:{operation}:unfiltered", EC2_UNFILTERED),)
        return (Bucket(f"ec2:{operation}", EC2_DESCRIBE),)
    if service == "dynamodb":
        control = operation.startswith(_DYNAMODB_CONTROL_PREFIXES) and operation not in _DYNAMODB_DATA_OPERATIONS
        return (DYNAMODB_CONTROL_PLANE,) if control else ()
    bucket = SERVICE_BUCKETS.get(service)
    return (bucket,) if bucket is not None else ()


def ec2_call_is_unfiltered(body: Any) -> bool:
    """Whether a serialized EC2 query request has no MaxResults, filter or id list."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body or "")
    for pair in text.split("&"):
        key = pair.split("=", 1)[0]
        if key == "MaxResults" or key.startswith("Filter.") or key.endswith("Id.1"):
            return False
    return True


class TokenBucket:
    """A token bucket that hands out reservations: callers sleep until their slot, in arrival order.

    Tokens may go negative; a call that finds none is told how long to wait for the token it has
    already claimed, so waiting threads never race each other for the same refill.
    """

    def __init__(self, rate: Rate, clock: Callable[[], float]) -> None:
        if rate.per_second <= 0 or rate.burst < 1:
            raise ValueError(f"a bucket needs a positive rate and a burst of at least 1, got {rate}")
        self.rate = rate
        self._clock = clock
        self._tokens = float(rate.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self.rate.burst), self._tokens + elapsed * self.rate.per_second)
        self._stamp = now

    def reserve(self) -> float:
        """Take one token and return the seconds to wait before using it (0.0 if it is there now)."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate.per_second

    def try_take(self) -> bool:
        """Take one token if one is there now (the server's view: no token, no service)."""
        with self._lock:
            self._refill()
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


@dataclass
class BucketStats:
    """What one bucket did: calls charged, calls that had to wait, and the total wait."""

    calls: int = 0
    waited_calls: int = 0
    waited_seconds: float = 0.0


class RateLimiter:
    """Token buckets per (scope, region, bucket), shared by every thread and client given to it.

    ``scope`` is the account (or anything standing for one set of credentials). Rates are the
    documented ones scaled by ``headroom``: AWS's buckets and ours do not tick in step, and the
    network reorders calls, so running a little under the limit is what keeps retries at zero.
    """

    def __init__(
        self,
        headroom: float = 0.9,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rules: Callable[[str, str, bool], tuple[Bucket, ...]] = buckets_for,
    ) -> None:
        if not 0 < headroom <= 1:
            raise ValueError(f"headroom must be in (0, 1], got {headroom}")
        self.headroom = headroom
        self._clock = clock
        self._sleep = sleep
        self._rules = rules
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._stats: dict[tuple[str, str, str], BucketStats] = defaultdict(BucketStats)
        self._lock = threading.Lock()

    @classmethod
    def disabled(cls) -> RateLimiter:
        """A limiter that never waits (no bucket matches any call)."""
        return cls(rules=lambda service, operation, unfiltered: ())

    def _bucket(self, key: tuple[str, str, str], rate: Rate) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            with self._lock:
                bucket = self._buckets.get(key)
                if bucket is None:
                    scaled = Rate(rate.per_second * self.headroom, max(1.0, int(rate.burst * self.headroom)))
                    bucket = self._buckets[key] = TokenBucket(scaled, self._clock)
        return bucket

    def reserve(self, scope: str, region: str, service: str, operation: str, unfiltered: bool = False) -> float:
        """Charge one call to its buckets and return the seconds it must wait (the longest)."""
        delay = 0.0
        for bucket in self._rules(service, operation, unfiltered):
            key = (scope, region, bucket.name)
            wait = self._bucket(key, bucket.rate).reserve()
            with self._lock:
                stats = self._stats[key]
                stats.calls += 1
                if wait > 0:
                    stats.waited_calls += 1
                    stats.waited_seconds += wait
            delay = max(delay, wait)
        return delay

    def acquire(self, scope: str, region: str, service: str, operation: str, unfiltered: bool = False) -> float:
        """Wait until the call may go; return the seconds waited."""
        delay = self.reserve(scope, region, service, operation, unfiltered)
        if delay > 0:
            self._sleep(delay)
        return delay

    def stats(self) -> dict[tuple[str, str, str], BucketStats]:
        """A snapshot of every bucket's counters, keyed by (scope, region, bucket name)."""
        with self._lock:
            return {key: BucketStats(s.calls, s.waited_calls, s.waited_seconds) for key, s in self._stats.items()}

    def install(self, client: Any, scope: str = "") -> None:
        """Make every attempt ``client`` sends (retries included) wait on its buckets first.

        Hooks ``before-send``, which botocore emits once per attempt, after signing (a wait of a
        few seconds is far inside SigV4's five-minute clock-skew window).
        """
        meta = client.meta
        service: str = meta.service_model.service_name
        region: str = "global" if service in GLOBAL_SERVICES else meta.region_name or ""

        def wait(request: Any, event_name: str = "", **_: Any) -> None:
            operation = event_name.rsplit(".", 1)[-1]
            unfiltered = service == "ec2" and ec2_call_is_unfiltered(getattr(request, "body", None))
            self.acquire(scope, region, service, operation, unfiltered)

        meta.events.register(f"before-send.{meta.service_model.service_id.hyphenize()}", wait)
