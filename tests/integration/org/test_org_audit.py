"""An organization audited end to end on moto, through the state machine's own steps and the CLI.

The state machine is template.yaml's definition, walked by tests/integration/org/statemachine.py:
every payload the Map and the other states send is built from the definition and handled by the
deployed handler (relaudit.org_handlers.handler). Each member's findings must land in that
member's own Security Hub (read back with its own credentials; moto ignores get_findings Filters,
so findings are compared whole) and in the central table; an account refusing AssumeRole is a gap
for that account only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from relaudit import cli, handlers, org_handlers
from relaudit.demo.moto_gaps import install_hooks
from relaudit.errors import BadRequestError
from relaudit.models.check import Status
from relaudit.models.request import AuditRequest
from relaudit.org import MemberFactories
from relaudit.run import run
from relaudit.sinks.dynamodb import FindingsTable, deserialize, serialize
from relaudit.sinks.record import item_key
from tests.conftest import FakeLambdaContext, load_event
from tests.integration.org import statemachine
from tests.integration.org.conftest import (
    CHECKS,
    EXTERNAL_ID,
    MANAGEMENT,
    REGION,
    ROLE,
    TABLE,
    Org,
    deny_assume_role,
)
from tests.integration.sinks.helpers import all_sh_findings


def _table() -> FindingsTable:
    return FindingsTable(boto3.client("dynamodb", region_name=REGION), TABLE)


def _hub(org: Org, account: str) -> list[dict[str, Any]]:
    """Every finding in ``account``'s Security Hub, read with that account's own credentials."""
    return all_sh_findings(org.hub(account))


def _verdicts(findings: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {(f["check_id"], f["resource_name"]): f["status"] for f in findings}


def _assert_audited(org: Org, account: str) -> None:
    """``account``'s planted verdicts are in the table, and its findings in its own Security Hub only."""
    stored = _table().current(account, REGION)
    verdicts = _verdicts(stored)
    expected = org.expected(account)
    assert {key: verdicts.get(key) for key in expected} == expected, f"{account}: a planted verdict differs"
    unplanted = sorted(key for key, status in verdicts.items() if status == "FAILED" and key not in expected)
    assert not unplanted, f"{account}: failures nobody planted: {unplanted}"
    assert {f["account_id"] for f in stored} == {account}
    hub = _hub(org, account)
    assert sorted(f["Id"] for f in hub) == sorted(f["id"] for f in stored if f["status"] != "NOT_APPLICABLE")
    assert {f["AwsAccountId"] for f in hub} == {account}, "BatchImportFindings must come from the finding's account"
    assert {f["ProductArn"] for f in hub} == {f"arn:aws:securityhub:{REGION}:{account}:product/{account}/default"}


@contextmanager
def refusing(account: str) -> Iterator[None]:
    """The deployed handler's AssumeRole into ``account``'s member role is refused (AccessDenied).

    The hook goes on the auditor session the handler caches across warm starts (reached through
    the same cache function the handler calls), and comes off after the block.
    """
    session = handlers._factory(org_handlers.WORKERS).session
    event, hook = deny_assume_role(session, account)
    try:
        yield
    finally:
        session.events.unregister(event, hook)


def _execution(context: FakeLambdaContext, crash: str | None = None) -> statemachine.Execution:
    """An execution whose Lambda is the deployed handler (the item of ``crash`` fails as a crashed Lambda)."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)

    def invoke(payload: dict[str, Any]) -> Any:
        if crash and payload.get("step") == "item" and payload.get("account") == crash:
            raise MemoryError("Runtime exited with error: signal: killed")
        return org_handlers.handler(payload, context)

    return statemachine.Execution(
        invoke=invoke, put_item=lambda table, item: dynamodb.put_item(TableName=table, Item=item)
    )


def _on_demand(org: Org) -> dict[str, Any]:
    """An on-demand execution's input: an AuditRequest's fields (the accounts and role are the stack's)."""
    return {
        "regions": [REGION],
        "checks": list(CHECKS),
        "sinks": ["securityhub", "dynamodb"],
        "include_accounts": org.members,
    }


def test_the_state_machine_audits_each_member_into_its_own_security_hub(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext
) -> None:
    execution = _execution(lambda_context)
    with refusing(org.denied):
        output = execution.run(statemachine.definition(TABLE), load_event("org/list")["input"])

    # The Map iterated one (account, region) item per auditable member; the refusing one has none.
    items = execution.payloads["AuditItem"]
    assert sorted((p["account"], p["region"]) for p in items) == [(account, REGION) for account in org.members]
    assert execution.map_settings == {"max_concurrency": 40, "tolerated_failure_percentage": 100}
    # events/ holds exactly the payloads the states send (sam local invoke -e events/org/*.json).
    assert set(execution.payloads["ListItems"][0]) == set(load_event("org/list"))
    assert set(items[0]) == set(load_event("org/item"))
    assert set(execution.payloads["RecordRun"][0]) == set(load_event("org/finalize"))
    assert all(p["run_id"] == items[0]["run_id"] for p in items)

    for account in org.members:
        _assert_audited(org, account)
    assert _hub(org, org.denied) == [] and _table().current(org.denied, REGION) == []

    assert output["status"] == "partial", "an account was not audited"
    summary = output["summary"]
    assert summary["accounts"] == org.accounts
    assert summary["items"] == {"total": 3, "complete": 3, "partial": 0, "failed": 0, "not_run": 0}
    gaps = [(g["account_id"], g["region"], g["resource_type"], g["error_code"]) for g in summary["coverage_gaps"]]
    assert gaps == [(org.denied, REGION, "*", "AccessDenied")]
    assert "sts:AssumeRole" in summary["coverage_gaps"][0]["message"]
    findings = [f for account in org.members for f in _table().current(account, REGION)]
    by_status = {s.value: sum(1 for f in findings if f["status"] == s) for s in Status}
    assert summary["findings"] == by_status
    [delivered] = [s["delivered"] for s in summary["sinks"] if s["sink"] == "securityhub"]
    assert delivered == sum(len(_hub(org, account)) for account in org.members)
    [record] = [r for r in _table().runs(limit=50) if r["run_id"] == items[0]["run_id"]]
    assert record["mode"] == "organization" and record["result"] == "partial"
    assert record["coverage_gaps"] == summary["coverage_gaps"]


def test_an_item_that_fails_every_retry_is_recorded_and_the_others_go_on(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext
) -> None:
    crashed = org.members[1]
    execution = _execution(lambda_context, crash=crashed)
    output = execution.run(statemachine.definition(TABLE), _on_demand(org))

    [record] = execution.payloads["RecordItemFailure"]
    assert record["Item"]["account_id"] == {"S": crashed} and record["Item"]["status"] == {"S": "failed"}
    summary = output["summary"]
    assert summary["items"] == {"total": 3, "complete": 2, "partial": 0, "failed": 1, "not_run": 0}
    [gap] = summary["coverage_gaps"]
    assert (gap["account_id"], gap["region"], gap["resource_type"], gap["error_code"]) == (
        crashed,
        REGION,
        "*",
        "MemoryError",
    )
    assert "signal: killed" in gap["message"]
    for account in org.members:
        if account != crashed:
            _assert_audited(org, account)


def test_past_the_tolerated_failure_percentage_the_map_fails_and_the_run_is_still_recorded(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELAUDIT_MAP_TOLERATED_FAILURE_PERCENTAGE", "0")
    execution = _execution(lambda_context, crash=org.members[0])
    output = execution.run(statemachine.definition(TABLE), _on_demand(org))
    assert execution.map_settings["tolerated_failure_percentage"] == 0
    assert output["status"] == "partial"
    assert output["summary"]["map_error"]["Error"] == "States.ExceedToleratedFailureThreshold"


def test_the_item_handler_audits_the_item_events_org_item_json_describes(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext
) -> None:
    account = org.members[0]
    event = load_event("org/item") | {"account": account, "region": REGION, "checks": list(CHECKS)}
    assert org_handlers.handler(event, lambda_context) == {
        "status": "complete",
        "account": account,
        "region": REGION,
        "coverage_gaps": 0,
    }

    raw = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=TABLE, Key=serialize(item_key(event["run_id"], account, REGION))
    )["Item"]
    record = deserialize(raw)
    assert record["status"] == "complete" and record["coverage_gap_count"] == 0
    assert record["expires_at"] == event["expires_at"]
    assert sum(record["findings"].values()) == len(_table().current(account, REGION))
    _assert_audited(org, account)


def test_an_item_whose_role_is_refused_is_a_gap_of_that_item_only(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext
) -> None:
    event = load_event("org/item") | {"account": org.denied, "region": REGION, "checks": list(CHECKS)}
    with refusing(org.denied):
        assert org_handlers.handler(event, lambda_context)["status"] == "partial"
    raw = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=TABLE, Key=serialize(item_key(event["run_id"], org.denied, REGION))
    )["Item"]
    [gap] = deserialize(raw)["coverage_gaps"]
    assert (gap["account_id"], gap["region"], gap["resource_type"], gap["error_code"]) == (
        org.denied,
        REGION,
        "*",
        "AccessDenied",
    )
    assert _hub(org, org.denied) == []


POLICY_PARAMETER = "/relaudit/org-config"


def test_the_items_apply_the_deployed_policy_and_the_run_counts_the_suppressed(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No sink: moto 5.2.6 has no BatchUpdateFindings, and the module's other tests share these hubs.
    ssm = boto3.client("ssm", region_name=REGION)  # the auditor account's own parameter, as the stack names it
    rule = "suppressions:\n  - {checks: ['*'], resources: ['*'], reason: members' sandbox}\n"
    ssm.put_parameter(Name=POLICY_PARAMETER, Type="String", Value=rule, Overwrite=True)
    monkeypatch.setenv("RELAUDIT_CONFIG_PARAMETER", POLICY_PARAMETER)
    run_id = "20260115T060000Z-org-5e1ec7ed"
    planted_failures = {}
    for account in org.members:
        event = load_event("org/item") | {
            "run_id": run_id,
            "account": account,
            "region": REGION,
            "checks": list(CHECKS),
            "sinks": [],
        }
        assert org_handlers.handler(event, lambda_context)["status"] == "complete"
        raw = boto3.client("dynamodb", region_name=REGION).get_item(
            TableName=TABLE, Key=serialize(item_key(run_id, account, REGION))
        )["Item"]
        record = deserialize(raw)
        planted_failures[account] = sum(1 for status in org.expected(account).values() if status == "FAILED")
        assert planted_failures[account] > 0
        assert record["suppressed"] == record["findings"]["FAILED"] >= planted_failures[account]
    finalize = load_event("org/finalize") | {
        "run_id": run_id,
        "checks": list(CHECKS),
        "sinks": [],
        "accounts": org.members,
        "regions": [REGION],
        "items": [{"account": account, "region": REGION} for account in org.members],
        "gaps": [],
    }
    summary = org_handlers.handler(finalize, lambda_context)["summary"]
    assert summary["suppressed"] == summary["findings"]["FAILED"] >= sum(planted_failures.values())

    # Without the parameter nothing is suppressed: the count comes from the policy, not the run.
    monkeypatch.delenv("RELAUDIT_CONFIG_PARAMETER")
    event = load_event("org/item") | {"run_id": run_id, "account": org.members[0], "region": REGION, "sinks": []}
    org_handlers.handler(event | {"checks": list(CHECKS)}, lambda_context)
    raw = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=TABLE, Key=serialize(item_key(run_id, org.members[0], REGION))
    )["Item"]
    assert deserialize(raw)["suppressed"] == 0


def test_a_bad_deployed_policy_is_refused_by_the_list_step_naming_the_field(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    no_reason = "suppressions:\n  - {checks: ['*'], resources: ['*']}\n"
    ssm.put_parameter(Name=POLICY_PARAMETER, Type="String", Value=no_reason, Overwrite=True)
    monkeypatch.setenv("RELAUDIT_CONFIG_PARAMETER", POLICY_PARAMETER)
    with pytest.raises(BadRequestError, match=r"suppressions\[0\]\.reason: ") as caught:
        org_handlers.handler(load_event("org/list"), lambda_context)
    assert caught.value.field == f"SSM parameter {POLICY_PARAMETER}"
    unknown = "policies:\n  dev: {skip_checks: [no-such-check]}\n"
    ssm.put_parameter(Name=POLICY_PARAMETER, Type="String", Value=unknown, Overwrite=True)
    with pytest.raises(BadRequestError, match=r"policies\.dev\.skip_checks\[0\]: unknown check"):
        org_handlers.handler(load_event("org/list"), lambda_context)


def test_an_execution_input_cannot_bring_its_own_policy(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext
) -> None:
    event = load_event("org/list")
    with pytest.raises(BadRequestError, match=r"^input\.config: is set by the stack"):
        org_handlers.handler(event | {"input": {**_on_demand(org), "config": {}}}, lambda_context)


def test_a_bad_step_payload_is_raised_for_the_state_machine_to_catch(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext
) -> None:
    with pytest.raises(BadRequestError, match=r"^account: '12' is not an AWS account id"):
        org_handlers.handler(load_event("org/item") | {"account": "12"}, lambda_context)
    with pytest.raises(BadRequestError, match=r"^step: must be one of list, item, finalize"):
        org_handlers.handler({"step": "audit"}, lambda_context)


def test_one_pool_audits_every_account_and_isolates_the_refusing_one(org: Org, auditor: Any) -> None:
    sent: list[dict[str, Any]] = []
    auditor.session.events.register("provide-client-params.sts.AssumeRole", lambda params, **_: sent.append(params))
    deny_assume_role(auditor.session, org.denied)
    request = AuditRequest(
        accounts=org.accounts,
        role_name=ROLE,
        external_id=EXTERNAL_ID,
        regions=[REGION],
        checks=list(CHECKS),
        max_workers=4,
    )
    result = run(request, org.catalog, auditor)  # type: ignore[arg-type]

    assert result.summary.accounts == org.accounts
    assert result.summary.result == "partial"
    assert [(g.account_id, g.region, g.resource_type, g.error_code) for g in result.coverage_gaps] == [
        (org.denied, REGION, "*", "AccessDenied")
    ]
    assert {f.account_id for f in result.findings} == set(org.members)
    for account in org.members:
        expected = org.expected(account)
        got = {(f.check_id, f.resource_name): f.status.value for f in result.findings if f.account_id == account}
        assert {key: got.get(key) for key in expected} == expected
    assert {a for a, _, _ in result.completed_slices} == set(org.members), "nothing to archive in the refused account"
    assert sorted(p["RoleArn"] for p in sent) == [f"arn:aws:iam::{a}:role/{ROLE}" for a in org.accounts]
    assert {p["ExternalId"] for p in sent} == {EXTERNAL_ID}


def test_cli_audits_the_accounts_it_names_each_into_its_own_security_hub(
    org: Org, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="relaudit")
    chosen = org.members[:2]
    args = ["audit", "--accounts", ",".join(chosen), "--role", ROLE, "--external-id", EXTERNAL_ID]
    args += ["--regions", REGION, "--checks", ",".join(CHECKS), "--format", "json", "--max-workers", "4"]
    args += ["--sink", "securityhub", "--table", TABLE, "-v"]
    assert cli.main(args) == cli.EXIT_OK
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["summary"]["accounts"] == sorted(chosen)
    assert report["coverage_gaps"] == []
    assert {f["account_id"] for f in report["findings"]} == set(chosen)
    for account in chosen:
        in_hub = {f["Id"] for f in _hub(org, account)}
        sent = {f["id"] for f in report["findings"] if f["account_id"] == account and f["status"] != "NOT_APPLICABLE"}
        assert sent <= in_hub
    assert EXTERNAL_ID not in out + err + caplog.text, "the external id is never printed or logged"


def test_cli_org_lists_the_organizations_active_accounts(org: Org, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["audit", "--org", "--role", ROLE, "--exclude-accounts", f"{MANAGEMENT},{org.denied}"]
    args += ["--regions", REGION, "--checks", "sqs-queue-redrive-policy-configured", "--format", "json"]
    assert cli.main(args) == cli.EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["accounts"] == org.members
    assert {f["account_id"] for f in report["findings"]} == set(org.members)


def test_every_check_on_member_credentials_finds_each_planted_defect(org: Org, auditor: Any) -> None:
    """The whole catalog, with moto's missing APIs answered on each member's own clients (MemberFactories.on_new)."""
    members = MemberFactories(
        auditor, ROLE, EXTERNAL_ID, on_new=lambda account, factory: install_hooks(factory, [REGION], account)
    )
    request = AuditRequest(accounts=org.members, role_name=ROLE, external_id=EXTERNAL_ID, regions=[REGION])
    result = run(request, org.catalog, auditor, members=members)  # type: ignore[arg-type]
    assert result.coverage_gaps == [] and result.summary.result == "complete"
    assert result.summary.checks == len(org.catalog.checks)  # type: ignore[union-attr]
    for account in org.members:
        expected = org.expected(account, checks=None)
        assert any(check == "rds-db-instance-aws-backup-recent" for check, _ in expected)
        got = {(f.check_id, f.resource_name): f.status.value for f in result.findings if f.account_id == account}
        assert {key: got.get(key) for key in expected} == expected, account
        unplanted = sorted(key for key, status in got.items() if status == "FAILED" and key not in expected)
        assert not unplanted, f"{account}: failures nobody planted: {unplanted}"


def test_an_item_goes_to_the_engine_without_planning_again(org: Org, org_env: dict[str, str], auditor: Any) -> None:
    """The list step identified each account and its regions: an item assumes the member's role
    once and reads its scope, with no GetCallerIdentity or DescribeRegions of its own."""
    from relaudit import fanout
    from relaudit.models.org import ItemStep

    account = org.members[0]
    calls: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name.removeprefix("before-call."))

    auditor.session.events.register("before-call.sts", count)
    members = MemberFactories(
        auditor,
        ROLE,
        EXTERNAL_ID,
        on_new=lambda _, factory: factory.session.events.register("before-call", count),
    )
    step = ItemStep.model_validate(
        load_event("org/item") | {"account": account, "region": REGION, "checks": list(CHECKS)}
    )
    outcome = fanout.audit_item(step, org.catalog, auditor, members, TABLE)  # type: ignore[arg-type]

    assert outcome["status"] == "complete"
    assert calls.count("sts.AssumeRole") == 1
    assert "sts.GetCallerIdentity" not in calls and "ec2.DescribeRegions" not in calls
    assert any(not name.startswith("sts.") for name in calls), "the member's scope was read"
    _assert_audited(org, account)


OTHER_REGION = "eu-west-1"
LOOP_CHECK = "lambda-function-no-recursive-loop"


def _cross_region_loop(org: Org, account: str) -> str:
    """A function in OTHER_REGION subscribed to a topic in REGION, whose role may publish to that
    topic: a loop only a graph spanning both regions sees. Returns the function's ARN."""
    member = org.factories[account]
    topic = member.client("sns", REGION).create_topic(Name="xr-events")["TopicArn"]
    iam = member.client("iam")
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="xr-handler", AssumeRolePolicyDocument=json.dumps(assume))["Role"]["Arn"]
    publish = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": topic}]}
    iam.put_role_policy(RoleName="xr-handler", PolicyName="publish", PolicyDocument=json.dumps(publish))
    function = member.client("lambda", OTHER_REGION).create_function(
        FunctionName="xr-handler",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip("def handler(event, context):\n    return event\n")},
    )["FunctionArn"]
    member.client("sns", REGION).subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)
    return str(function)


def _zip(source: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return buffer.getvalue()


def test_with_a_graph_check_each_account_is_one_item_over_all_its_regions(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext
) -> None:
    account = org.members[2]
    function = _cross_region_loop(org, account)
    execution = _execution(lambda_context)
    checks = [*CHECKS, LOOP_CHECK]
    request = {
        "regions": [REGION, OTHER_REGION],
        "checks": checks,
        "sinks": ["dynamodb"],
        "include_accounts": [account],
    }
    output = execution.run(statemachine.definition(TABLE), request)

    # One item for the account: every check over both regions (the graph spans them).
    items = [(p["account"], p["region"], sorted(p["regions"])) for p in execution.payloads["AuditItem"]]
    assert items == [(account, "*", sorted((REGION, OTHER_REGION)))]
    assert output["status"] == "complete"
    assert output["summary"]["items"] == {"total": 1, "complete": 1, "partial": 0, "failed": 0, "not_run": 0}

    # The loop crosses regions: found, on the function, with its path through the other region's topic.
    far = {(f["check_id"], f["resource_arn"]): f for f in _table().current(account, OTHER_REGION)}
    loop = far[(LOOP_CHECK, function)]
    assert loop["status"] == "FAILED"
    assert any(":sns:us-east-1:" in hop for hop in loop["path"] or [])
    # The other checks are judged as in a region item: the planted verdicts stand.
    near = _verdicts(_table().current(account, REGION))
    expected = org.expected(account)
    assert {key: near.get(key) for key in expected} == expected
    records = fanout_records(execution.payloads["AuditItem"][0]["run_id"])  # (the module's runs share an id)
    assert records[(account, "*")]["findings"]["FAILED"] == sum(
        f["status"] == "FAILED" for region in (REGION, OTHER_REGION) for f in _table().current(account, region)
    )


def fanout_records(run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    from relaudit.fanout import read_item_records

    return read_item_records(boto3.client("dynamodb", region_name=REGION), TABLE, run_id)


def test_an_account_item_that_fails_every_retry_is_a_gap_of_the_whole_account(
    org: Org, org_env: dict[str, str], lambda_context: FakeLambdaContext
) -> None:
    crashed, healthy = org.members[0], org.members[1]
    execution = _execution(lambda_context, crash=crashed)
    request = {"regions": [REGION], "checks": [*CHECKS, LOOP_CHECK], "include_accounts": [crashed, healthy]}
    output = execution.run(statemachine.definition(TABLE), request | {"sinks": ["dynamodb"]})

    assert output["status"] == "partial"
    assert output["summary"]["items"] == {"total": 2, "complete": 1, "partial": 0, "failed": 1, "not_run": 0}
    gaps = [(g["account_id"], g["region"], g["resource_type"]) for g in output["summary"]["coverage_gaps"]]
    assert gaps == [(crashed, "*", "*")], "the account item's failure is the whole account's gap"
