"""The audit's progress display: on a terminal only, showing units done of total, calls and throttled waits."""

from __future__ import annotations

import io
import re

import pytest

from relaudit.ratelimit import Bucket, Rate, RateLimiter
from relaudit.report.progress import RunProgress, call_counts


def test_nothing_is_drawn_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    stream = io.StringIO()
    with RunProgress(lambda: (0, 0), stream) as progress:
        assert not progress.enabled
        progress(1, 2, "123456789012/us-east-1/AWS::SQS::Queue")
    assert stream.getvalue() == ""


def test_on_a_terminal_it_shows_units_calls_and_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich treats the stream as a terminal
    monkeypatch.setenv("COLUMNS", "160")
    stream = io.StringIO()
    with RunProgress(lambda: (57, 3), stream) as progress:
        assert progress.enabled
        progress(3, 8, "123456789012/eu-west-1/AWS::Lambda::Function")
        progress._progress.refresh()
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())
    assert "3/8" in drawn and "57 calls" in drawn and "3 throttled waits" in drawn
    assert "eu-west-1/AWS::Lambda::Function" in drawn


def test_call_counts_add_up_every_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(
        headroom=1.0, clock=lambda: now[0], sleep=lambda s: None, rules=lambda *_: (Bucket("b", Rate(1, 1)),)
    )
    for _ in range(3):
        limiter.acquire("111111111111", "us-east-1", "sqs", "ListQueues")
    calls, waits = call_counts(limiter)
    assert calls == 3 and waits == 2, "a burst of 1: the second and third calls waited"
