"""Shared fixtures: fake AWS environment, moto, a retry-free client factory, events, Lambda context."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"

# Set before any boto3 client exists: tests never reach a real account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "relaudit",
        "POWERTOOLS_METRICS_NAMESPACE": "relaudit-tests",
    }
)
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_var, None)
os.environ["AWS_CONFIG_FILE"] = "/nonexistent"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-process AWS (v5 API)."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def factory(aws: None) -> Any:
    """A ClientFactory with no retries (retry backoff would only slow injected-fault tests)."""
    from relaudit.aws import ClientFactory, client_config

    return ClientFactory(session=boto3.session.Session(), config=client_config(4, max_attempts=1))


def load_event(name: str) -> dict[str, Any]:
    """Read events/<name>.json, the same files `sam local invoke -e` uses."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


@dataclass
class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "relaudit-audit"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:relaudit-audit"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    remaining_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    """A Lambda context for calling handlers directly."""
    return FakeLambdaContext()
