"""The Lambda's policy file: from the SSM parameter the stack names (moto SSM), else the packaged file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from relaudit import handlers
from relaudit.aws import ClientFactory, client_config
from relaudit.demo.moto_gaps import install_hooks
from relaudit.demo.seed import seed
from relaudit.policy.config import ConfigError
from relaudit.policy.source import CONFIG_PARAMETER_ENV, deployed_config
from tests.conftest import load_event

PARAMETER = "/relaudit/config"
SUPPRESS_REPORTS = "suppressions:\n  - checks: [rds-db-instance-multi-az]\n    resources: ['*:db:reports-db']\n"


@pytest.fixture
def seeded(aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(handlers, "_cache", {})
    factory = ClientFactory(config=client_config(16, max_attempts=1))
    install_hooks(factory, ("us-east-1",))
    handlers._cache["factory-16"] = factory
    session = boto3.session.Session()
    seed(lambda service, region: session.client(service, region_name=region), ("us-east-1",))
    return session.client("ssm", region_name="us-east-1")


def test_the_handler_audits_under_the_parameters_policy(
    seeded: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded.put_parameter(Name=PARAMETER, Type="String", Value=SUPPRESS_REPORTS + "    reason: dev database\n")
    monkeypatch.setenv(CONFIG_PARAMETER_ENV, PARAMETER)
    response = handlers.handler(load_event("on-demand-one-check"), lambda_context)
    assert response["status"] == "complete", response
    assert response["summary"]["suppressed"] == 1
    assert response["summary"]["suppressed_by_severity"] == {"HIGH": 1}
    assert '"SuppressedFindings"' in capsys.readouterr().out, "an EMF metric"


@pytest.mark.parametrize(
    ("value", "message"),
    [(SUPPRESS_REPORTS, "suppressions[0].reason: "), (None, "cannot be read (ParameterNotFound)")],
)
def test_a_bad_or_missing_parameter_is_a_structured_error(
    seeded: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch, value: str | None, message: str
) -> None:
    if value is not None:
        seeded.put_parameter(Name=PARAMETER, Type="String", Value=value)
    monkeypatch.setenv(CONFIG_PARAMETER_ENV, PARAMETER)
    response = handlers.handler(load_event("on-demand-one-check"), lambda_context)
    assert response["status"] == "error"
    assert response["error"]["field"] == f"SSM parameter {PARAMETER}"
    assert response["error"]["message"].startswith(message)


def test_an_event_cannot_bring_its_own_policy(seeded: Any, lambda_context: Any) -> None:
    event = {**load_event("on-demand-one-check"), "config": {}}
    response = handlers.handler(event, lambda_context)
    assert response["status"] == "error" and response["error"]["field"] == "config"


def test_the_packaged_file_when_no_parameter_is_named(tmp_path: Path) -> None:
    packaged = tmp_path / "relaudit.yaml"
    packaged.write_text(SUPPRESS_REPORTS + "    reason: dev database\n")

    def no_ssm() -> Any:
        raise AssertionError("no parameter named: SSM is not called")

    config, source = deployed_config({}, no_ssm, packaged)
    assert source == "packaged relaudit.yaml" and config.suppressions[0].reason == "dev database"
    assert deployed_config({}, no_ssm, tmp_path / "absent.yaml")[0].suppressions == []
    packaged.write_text("suppressions: [{checks: ['*'], resources: ['*']}]\n")
    with pytest.raises(ConfigError) as caught:
        deployed_config({}, no_ssm, packaged)
    assert caught.value.path == "suppressions[0].reason"
