"""Transient errors (throttling, 5xx, dropped connections, read timeouts) are retried and change nothing.

Faults are injected by a ``before-send`` hook (tests/support/faults.py), so they pass through
botocore's real retry handler exactly as errors off the wire would. Retries are the production
ones (client_config: botocore's retry mode with exponential backoff and full jitter, 5 attempts);
tests stay fast because non-throttling errors back off from a 50 ms base and only a few throttles
(1 s base) are injected.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections import defaultdict
from typing import Any

import pytest

from tests.integration.faults.conftest import findings_of
from tests.support.faults import TRANSIENT_KINDS, Faults


def retry_delays(faults: Faults) -> dict[int, list[float]]:
    """Seconds between attempt n-1 and attempt n of the same request, by n."""
    by_request: dict[bytes, list[tuple[float, int]]] = defaultdict(list)
    for at, call in faults.calls:
        by_request[call.key].append((at, call.attempt))
    delays: dict[int, list[float]] = defaultdict(list)
    for attempts in by_request.values():
        attempts.sort(key=lambda a: a[1])
        for (before, _), (after, n) in itertools.pairwise(attempts):
            delays[n].append(after - before)
    return delays


@pytest.mark.parametrize("kind", TRANSIENT_KINDS)
def test_each_transient_kind_is_retried_then_succeeds(kind: str, make_factory: Any) -> None:
    faults = Faults(fail_first=2, fail_first_kind=kind)
    sqs = make_factory(faults).client("sqs", "us-east-1")
    response = sqs.list_queues(MaxResults=1000)
    assert len(response["QueueUrls"]) == 3  # orders, orders-dlq, emails
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert faults.injected == {kind: 2}
    assert [call.attempt for _, call in faults.calls] == [1, 2, 3]


def test_backoff_grows_with_jitter(make_factory: Any) -> None:
    """Fifteen requests that fail twice with 503: the waits before the retries are random (jitter)
    and, on average, the second is longer than the first (exponential backoff, 50 ms base)."""
    faults = Faults(fail_first=2, fail_first_kind="unavailable")
    sqs = make_factory(faults).client("sqs", "us-east-1")
    for n in range(15):
        sqs.list_queues(QueueNamePrefix=f"p{n}")
    delays = retry_delays(faults)
    assert len(delays[2]) == len(delays[3]) == 15
    assert len({round(d, 4) for d in delays[2]}) > 10, "waits before retries should be jittered"
    # botocore: rand(0,1) * 0.05 * 2**(attempt-1): means 25 ms then 50 ms; generous bounds for load.
    assert statistics.mean(delays[3]) > statistics.mean(delays[2])
    assert max(delays[2] + delays[3]) < 1.0


def test_throttling_backs_off_longer_than_server_errors(make_factory: Any) -> None:
    throttled = Faults(fail_first=1, fail_first_kind="throttle")
    make_factory(throttled).client("rds", "us-east-1").describe_db_instances()
    # botocore's throttling base is 1 s (rand(0,1) * 1 s); a 5xx waits at most 50 ms.
    (wait,) = retry_delays(throttled)[2]
    assert 0 <= wait < 1.5
    assert throttled.injected == {"throttle": 1}


def test_exactly_every_tenth_attempt_failing_changes_no_finding(make_factory: Any, audit: Any, clean: Any) -> None:
    """A 10% transient error rate, exactly: every 10th attempt fails, cycling through every kind."""
    faults = Faults(every=10)
    started = time.monotonic()
    result = audit(make_factory(faults))
    attempts = sum(faults.attempts.values())
    print(f"every 10th: {dict(faults.injected)} in {attempts} attempts, {time.monotonic() - started:.2f}s")
    assert faults.total_injected == attempts // 10 >= len(TRANSIENT_KINDS)
    assert set(faults.injected) == set(TRANSIENT_KINDS)
    assert faults.retries == faults.total_injected  # each fault cost exactly one retry
    assert result.coverage_gaps == []
    assert findings_of(result) == findings_of(clean)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_ten_percent_transient_errors_change_no_finding(
    seed: int, make_factory: Any, audit: Any, clean: Any
) -> None:
    """10% of attempts drawn at random (a request may fail on consecutive attempts)."""
    faults = Faults(rate=0.10, seed=seed)
    started = time.monotonic()
    result = audit(make_factory(faults))
    print(
        f"seed {seed}: {faults.total_injected} faults in {sum(faults.attempts.values())} attempts "
        f"({faults.attempts[1]} requests), {faults.retries} retries, {dict(faults.injected)}, "
        f"{time.monotonic() - started:.2f}s"
    )
    assert faults.total_injected >= 1
    assert faults.retries == faults.total_injected
    assert result.coverage_gaps == []
    assert result.summary.result == "complete"
    assert findings_of(result) == findings_of(clean)


def test_errors_past_the_retry_budget_become_a_gap_for_that_unit_only(
    make_factory: Any, audit: Any, clean: Any
) -> None:
    faults = Faults(fail_first=5, fail_first_kind="unavailable", only=frozenset({"rds"}))
    result = audit(make_factory(faults))
    assert {(g.region, g.resource_type, g.error_code) for g in result.coverage_gaps} == {
        ("us-east-1", "AWS::RDS::DBInstance", "ServiceUnavailable"),
        ("eu-west-1", "AWS::RDS::DBInstance", "ServiceUnavailable"),
    }
    assert faults.attempts[5] == 2 and faults.attempts[6] == 0  # 5 attempts per call, then given up
    others = [f for f in findings_of(clean) if f["resource_type"] != "AWS::RDS::DBInstance"]
    assert findings_of(result) == others
    assert result.summary.result == "partial"
