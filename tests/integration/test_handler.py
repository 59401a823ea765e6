"""The Lambda handler fed the very events/*.json that `sam local invoke -e` uses."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from relaudit import handlers
from relaudit.aws import ClientFactory, client_config
from relaudit.demo.moto_gaps import install_hooks
from relaudit.demo.seed import seed
from tests.conftest import EVENTS, load_event


@pytest.fixture
def seeded(aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(handlers, "_cache", {})  # a fresh execution environment per test
    factory = ClientFactory(config=client_config(16, max_attempts=1))
    install_hooks(factory, ("us-east-1",))  # moto lacks GetAccountSettings, ListProtectedResources, most quotas
    handlers._cache["factory-16"] = factory
    session = boto3.session.Session()
    return seed(lambda service, region: session.client(service, region_name=region), ("us-east-1",))


@pytest.mark.parametrize("name", sorted(p.stem for p in EVENTS.glob("*.json")))
def test_every_event_file_is_accepted(
    name: str, seeded: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAUDIT_REGIONS", "us-east-1")
    event = load_event(name)
    if event.get("regions") == []:
        event["regions"] = ["us-east-1"]  # "all enabled regions" means ~38 in moto: too slow for a unit of CI
    response = handlers.handler(event, lambda_context)
    assert response["status"] == "complete", response
    assert response["summary"]["resources"] > 0


def test_one_region_two_checks_event(seeded: Any, lambda_context: Any) -> None:
    response = handlers.handler(load_event("on-demand-one-check"), lambda_context)
    summary = response["summary"]
    assert summary["regions"] == ["us-east-1"]
    assert summary["checks"] == 2
    planted = [p for p in seeded if p.check_id in ("rds-db-instance-multi-az", "sqs-queue-redrive-policy-configured")]
    assert summary["findings"]["FAILED"] == sum(p.expect == "FAILED" for p in planted)


def test_scheduled_event_uses_environment_scope(
    seeded: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAUDIT_REGIONS", "us-east-1")
    monkeypatch.setenv("RELAUDIT_CHECKS", "autoscaling-group-multi-az")
    response = handlers.handler(load_event("scheduled"), lambda_context)
    assert response["summary"]["checks"] == 1
    assert response["summary"]["findings"] == {"PASSED": 1, "FAILED": 1, "NOT_APPLICABLE": 0, "UNKNOWN": 0}


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"regions": ["us-east-1"], "checks": ["no-such-check"]}, "checks"),
        ({"regions": ["atlantis-1"]}, "regions"),
        ({"regionz": []}, "regionz"),
    ],
)
def test_bad_event_gets_structured_error(seeded: Any, lambda_context: Any, event: dict[str, Any], field: str) -> None:
    response = handlers.handler(event, lambda_context)
    assert response["status"] == "error"
    assert response["error"]["field"] == field


def test_metrics_are_emitted(seeded: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]) -> None:
    handlers.handler({"regions": ["us-east-1"], "checks": ["rds-db-instance-multi-az"]}, lambda_context)
    out = capsys.readouterr().out
    assert '"FailedFindings"' in out and '"CoverageGaps"' in out, "EMF metrics go to stdout"
