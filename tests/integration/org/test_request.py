"""Organization requests: validated with errors naming the field (or flag), and the external id never shown.

No AWS here: bad input is refused before any client exists.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import ValidationError

from relaudit import cli
from relaudit.errors import BadRequestError
from relaudit.events import request_from_event
from relaudit.fanout import OrgSettings, org_request, step_from_event
from relaudit.models.request import AuditRequest
from tests.conftest import load_event

SECRET = "very-secret-external-id"
ACCOUNT = "111111111111"


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"accounts": ["1111"]}, "accounts", "'1111' is not an AWS account id"),
        ({"accounts": [ACCOUNT]}, "role_name", "name the role to assume"),
        ({"org": True, "accounts": [ACCOUNT], "role_name": "R"}, "org", "not both"),
        ({"include_accounts": [ACCOUNT]}, "include_accounts", "applies only to an organization"),
        ({"org": True, "exclude_accounts": ["x"], "role_name": "R"}, "exclude_accounts", "'x' is not an AWS account"),
        ({"role_name": "R"}, "role_name", "applies only to an organization"),
        ({"org": True, "role_name": "role/R"}, "role_name", "is not an IAM role name"),
        ({"external_id": SECRET}, "external_id", "applies only with a role"),
        ({"org": True, "role_name": "R", "external_id": "bad secret"}, "external_id", "value is not shown"),
    ],
)
def test_bad_org_fields_name_the_field(fields: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AuditRequest(**fields)
    first = caught.value.errors()[0]
    assert first["loc"] == (field,)
    assert fragment in first["msg"]
    assert "bad secret" not in first["msg"]


def test_the_external_id_never_shows_in_repr_or_json() -> None:
    request = AuditRequest(org=True, role_name="RelauditAudit", external_id=SECRET, exclude_accounts=[ACCOUNT, ACCOUNT])
    assert request.multi_account and request.exclude_accounts == [ACCOUNT]
    assert request.external_id is not None and request.external_id.get_secret_value() == SECRET
    assert SECRET not in repr(request) + str(request) + request.model_dump_json()
    settings = OrgSettings(role_name="RelauditAudit", table="t", external_id=SECRET)
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--accounts", "1111", "--role", "R"], "relaudit: error: --accounts: '1111' is not an AWS account id"),
        (["--accounts", ACCOUNT], "relaudit: error: --role: name the role to assume in each account"),
        (["--include-accounts", ACCOUNT], "relaudit: error: --include-accounts: applies only to an organization"),
        (["--org", "--role", "role/x"], "relaudit: error: --role: 'role/x' is not an IAM role name"),
        (["--org", "--accounts", ACCOUNT], "relaudit: error: argument --accounts: not allowed with argument --org"),
        (["--org", "--role", "R", "--external-id", "bad secret"], "relaudit: error: --external-id: must be 2-1224"),
    ],
)
def test_cli_bad_org_flags_exit_2_naming_the_flag(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) if "not allowed" in expected else _no_exit():
        code = cli.main(["audit", *argv])
        assert code == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(expected), err
    assert "bad secret" not in err and "Traceback" not in err


class _no_exit:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_cli_takes_the_external_id_from_the_environment_only_with_a_role(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RELAUDIT_EXTERNAL_ID", "bad secret")
    # Without --role the variable is ignored: the single-account audit stays valid (fails later, on regions).
    assert cli.main(["audit", "--regions", "nowhere-1"]) == cli.EXIT_BAD_INPUT
    assert "--regions" in capsys.readouterr().err
    assert cli.main(["audit", "--org", "--role", "R"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("relaudit: error: --external-id: must be 2-1224") and "bad secret" not in err


def test_an_on_demand_event_never_echoes_a_bad_external_id() -> None:
    with pytest.raises(BadRequestError) as caught:
        request_from_event({"org": True, "role_name": "R", "external_id": "bad secret"})
    assert caught.value.field == "external_id" and "bad secret" not in str(caught.value)


def test_an_execution_input_cannot_choose_the_role_or_table() -> None:
    settings = OrgSettings(role_name="RelauditAudit", table="relaudit-findings", external_id=SECRET)
    for field in ("role_name", "external_id", "table"):
        with pytest.raises(BadRequestError, match=f"^input.{field}: is set by the stack"):
            org_request({field: "x"}, settings, {})
    request = org_request({"include_accounts": [ACCOUNT], "sinks": ["dynamodb"]}, settings, {})
    assert request.org and request.include_accounts == [ACCOUNT] and request.table == "relaudit-findings"
    with pytest.raises(BadRequestError, match=r"^input.include_accounts: 'x' is not an AWS account id"):
        org_request({"include_accounts": ["x"]}, settings, {})


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"RELAUDIT_TABLE": "t"}, "environment RELAUDIT_MEMBER_ROLE"),
        ({"RELAUDIT_MEMBER_ROLE": "R"}, "environment RELAUDIT_TABLE"),
        (
            {"RELAUDIT_MEMBER_ROLE": "R", "RELAUDIT_TABLE": "t", "RELAUDIT_MAP_MAX_CONCURRENCY": "lots"},
            "environment RELAUDIT_MAP_MAX_CONCURRENCY",
        ),
        (
            {"RELAUDIT_MEMBER_ROLE": "R", "RELAUDIT_TABLE": "t", "RELAUDIT_MAP_TOLERATED_FAILURE_PERCENTAGE": "101"},
            "environment RELAUDIT_MAP_TOLERATED_FAILURE_PERCENTAGE",
        ),
    ],
)
def test_org_settings_name_the_bad_variable(env: dict[str, str], field: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        OrgSettings.from_env(env)
    assert caught.value.field == field


@pytest.mark.parametrize("name", ["list", "item", "account-item", "finalize"])
def test_every_org_event_file_is_a_valid_step_payload(name: str) -> None:
    assert step_from_event(load_event(f"org/{name}")).step == name.removeprefix("account-")


def test_bad_step_payloads_name_the_field(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cases = [
        ({"step": "item"}, "run_id: Field required"),
        (load_event("org/item") | {"region": "us-east-1\n"}, "region: 'us-east-1\\n' is not a region name"),
        (load_event("org/item") | {"extra": 1}, "extra: unknown field"),
        (load_event("org/item") | {"regions": ["us-east-1"]}, "regions: listed for, and only for"),
        (load_event("org/account-item") | {"regions": []}, "regions: listed for, and only for"),
        (load_event("org/account-item") | {"regions": ["mars-1"]}, "regions: 'mars-1' is not a region name"),
        (load_event("org/finalize") | {"items": [{"account": "1", "region": "us-east-1"}]}, "items.0.account:"),
        ([], "event: must be a JSON object"),
    ]
    for event, fragment in cases:
        with pytest.raises(BadRequestError) as caught:
            step_from_event(event)
        assert str(caught.value).startswith(fragment), str(caught.value)
