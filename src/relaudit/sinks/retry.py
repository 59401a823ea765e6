"""Delivery knobs shared by the sinks: retry backoff, a client-side rate limiter, injectable time."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ParamValidationError

from relaudit.sinks.lifecycle import DEFAULT_REFRESH

if TYPE_CHECKING:
    from collections.abc import Callable

# Error codes worth another attempt (the rest are permanent for this run).
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalException",
        "InternalServerError",
        "InternalServerException",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)


def is_retryable(exc: Exception, code: str) -> bool:
    """Whether another attempt may succeed: throttling, server errors, connection trouble (not bad input)."""
    if isinstance(exc, ParamValidationError):
        return False
    return isinstance(exc, BotoCoreError) or code in RETRYABLE_CODES


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class DeliveryOptions:
    """How the sinks deliver: retries, pacing, policy intervals, and the clocks (tests inject fakes).

    Attributes:
        max_attempts: Attempts per batch (first one included) before what still fails is reported.
        base_delay: Backoff before the second attempt, in seconds; doubles each attempt, with jitter.
        max_delay: Cap on one backoff, in seconds.
        rate_per_second: BatchImportFindings calls per second per account and region (Security
            Hub allows 10; staying under it leaves room for other importers).
        refresh: Re-send an unchanged active finding to Security Hub when its copy is this old.
        history_ttl: How long history items and run records live (DynamoDB TTL).
        archived_ttl: How long the current item of an archived finding lives after archiving.
        sleep: ``time.sleep``; tests pass a recorder so nothing really waits.
        monotonic: ``time.monotonic``, for the rate limiter.
        clock: Wall clock (aware UTC datetimes), for timestamps.
        rng: Jitter source.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    rate_per_second: float = 5.0
    refresh: dt.timedelta = DEFAULT_REFRESH
    history_ttl: dt.timedelta = dt.timedelta(days=365)
    archived_ttl: dt.timedelta = dt.timedelta(days=90)
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    clock: Callable[[], dt.datetime] = _utcnow
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): capped, equal jitter."""
        cap = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return cap / 2 + float(self.rng.uniform(0, cap / 2))


class CallPacer:
    """Spaces calls at least ``1 / rate`` seconds apart (thread-safe; waiting callers queue up)."""

    def __init__(self, rate: float, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until the next call may go."""
        with self._lock:
            now = self._monotonic()
            if self._next is not None and now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self._interval
