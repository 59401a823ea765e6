"""Exceptions and tiers end to end, on the demo's account (seeded by relaudit.demo.seed, not by these
tests): a config suppression and a tag suppression, an expired one, a dev tier, --fail-on, and the
Security Hub Workflow of suppressed findings going SUPPRESSED and back to NEW.

moto 5.2.6 has no BatchUpdateFindings: tests.support.securityhub_workflow answers it on moto's own
stored findings (see there for what moto does and does not do with Workflow and Note).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from relaudit import cli
from relaudit.aws import ClientFactory, client_config
from relaudit.catalog.loader import load_catalog
from relaudit.demo.moto_gaps import install_hooks
from relaudit.demo.seed import seed
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Status
from relaudit.models.request import AuditRequest
from relaudit.policy.config import parse_config
from relaudit.run import run
from relaudit.sinks.dynamodb import FindingsTable, ensure_table
from tests.integration.sinks.helpers import all_sh_findings, fast_options
from tests.support import securityhub_workflow

REGION = "us-east-1"
TABLE = "policy-findings"
TOMORROW = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
CONFIG = f"""
suppressions:
  - checks: [rds-db-instance-multi-az]
    resources: ["arn:aws:rds:*:*:db:reports-db"]
    reason: reports-db is the analysts' dev copy
    expires: {TOMORROW}
  - checks: ["*"]
    resources: ["arn:aws:sqs:*:*:emails"]
    reason: emails are best effort
    expires: 2020-01-31
policies:
  dev:
    skip_checks: [autoscaling-group-multi-az]
"""
LEDGER_TAGS = [
    {"Key": "relaudit:suppress", "Value": "rds-db-instance-backup-retention"},
    {"Key": "relaudit:suppress-reason", "Value": "ledger-db is rebuilt nightly from the event store"},
]


@pytest.fixture
def account(aws: None) -> tuple[ClientFactory, dict[str, str]]:
    """The demo account in one region, ledger-db tagged with a suppression and batch-asg as dev."""
    session = boto3.session.Session()
    seed(lambda service, region: session.client(service, region_name=region), (REGION,))
    rds = session.client("rds", region_name=REGION)
    arns = {db["DBInstanceIdentifier"]: db["DBInstanceArn"] for db in rds.describe_db_instances()["DBInstances"]}
    rds.add_tags_to_resource(ResourceName=arns["ledger-db"], Tags=LEDGER_TAGS)
    session.client("autoscaling", region_name=REGION).create_or_update_tags(
        Tags=[
            {
                "ResourceId": "batch-asg",
                "ResourceType": "auto-scaling-group",
                "Key": "relaudit:tier",
                "Value": "dev",
                "PropagateAtLaunch": False,
            }
        ]
    )
    factory = ClientFactory(session=session, config=client_config(4, max_attempts=1))
    install_hooks(factory, [REGION])
    ensure_table(factory.client("dynamodb"), TABLE)
    return factory, arns


def _audit(factory: ClientFactory, config: str, sinks: bool = True) -> Any:
    request = AuditRequest(
        regions=[REGION],
        sinks=["securityhub", "dynamodb"] if sinks else [],
        table=TABLE if sinks else None,
        config=parse_config(config, "test"),
    )
    return run(request, load_catalog(known_types=COLLECTORS), factory, delivery_options=fast_options()[0])


def _finding(result: Any, check_id: str, name: str) -> Any:
    (found,) = [f for f in result.findings if f.check_id == check_id and f.resource_name == name]
    return found


def _workflow(factory: ClientFactory, finding_id: str) -> tuple[str | None, str | None]:
    (found,) = [f for f in all_sh_findings(factory.client("securityhub", REGION)) if f["Id"] == finding_id]
    return found.get("Workflow", {}).get("Status"), found.get("Note", {}).get("Text")


def test_suppressions_mark_their_failures_and_security_hub_follows_them_both_ways(
    account: tuple[ClientFactory, dict[str, str]],
) -> None:
    factory, arns = account
    calls = securityhub_workflow.install(factory, [REGION])
    result = _audit(factory, CONFIG)

    by_config = _finding(result, "rds-db-instance-multi-az", "reports-db")
    by_tag = _finding(result, "rds-db-instance-backup-retention", "ledger-db")
    assert by_config.status is Status.FAILED and by_tag.status is Status.FAILED  # the status is kept
    assert by_config.suppression.model_dump(mode="json") == {
        "reason": "reports-db is the analysts' dev copy",
        "expires": TOMORROW,
        "source": "config",
    }
    assert by_tag.suppression.model_dump(mode="json") == {
        "reason": "ledger-db is rebuilt nightly from the event store",
        "expires": None,
        "source": "tag",
    }
    expired = _finding(result, "sqs-queue-redrive-policy-configured", "emails")
    assert expired.status is Status.FAILED and expired.suppression is None
    assert any(
        "expired on 2020-01-31" in note and "emails are best effort" in note for note in result.summary.policy_notes
    )
    assert result.summary.suppressed == 2
    assert result.summary.suppressed_by_severity == {"HIGH": 2}
    assert sorted(f.id for f in result.findings if f.suppression) == sorted([by_config.id, by_tag.id])

    status, note = _workflow(factory, by_config.id)
    assert status == "SUPPRESSED" and note is not None and "reports-db is the analysts' dev copy" in note
    status, note = _workflow(factory, by_tag.id)
    assert status == "SUPPRESSED" and note is not None and "rebuilt nightly" in note
    assert _workflow(factory, expired.id)[0] is None  # never touched (moto sets no Workflow on import)
    (hub,) = [s for s in result.summary.sinks if s.sink == "securityhub"]
    assert (hub.workflow, hub.workflow_failed) == (2, 0)

    table = FindingsTable(factory.client("dynamodb"), TABLE)
    assert table.runs()[0]["suppressed"] == 2
    (new,) = table.finding_history(by_config.id)
    assert new["event"] == "NEW" and new["suppression"]["source"] == "config"
    assert new["suppression"]["reason"] == "reports-db is the analysts' dev copy"
    assert new["suppression"]["expires"] == TOMORROW

    # The same run again: Security Hub already shows both notes, nothing to update.
    calls.clear()
    again = _audit(factory, CONFIG)
    assert calls == [] and again.summary.suppressed == 2

    # The config suppression removed from the file and the tag removed from the database: back to NEW.
    factory.session.client("rds", region_name=REGION).remove_tags_from_resource(
        ResourceName=arns["ledger-db"], TagKeys=["relaudit:suppress"]
    )
    after = _audit(factory, "{}")
    assert after.summary.suppressed == 0
    assert _workflow(factory, by_config.id)[0] == "NEW"
    assert _workflow(factory, by_tag.id)[0] == "NEW"
    events = [item["event"] for item in table.finding_history(by_tag.id)]
    assert events == ["NEW", "UNSUPPRESSED"]
    # Once back to NEW relaudit lets the Workflow be: an analyst's later change is not overridden.
    calls.clear()
    _audit(factory, "{}")
    assert calls == []


def test_a_dev_tier_resource_is_not_held_to_the_check_its_tier_drops(
    account: tuple[ClientFactory, dict[str, str]],
) -> None:
    factory, _ = account
    without = _finding(_audit(factory, "{}", sinks=False), "autoscaling-group-multi-az", "batch-asg")
    assert without.status is Status.FAILED and without.tier is None  # the seed's single-AZ group

    result = _audit(factory, CONFIG, sinks=False)
    dev = _finding(result, "autoscaling-group-multi-az", "batch-asg")
    assert dev.status is Status.NOT_APPLICABLE and dev.tier == "dev"
    other = _finding(result, "autoscaling-group-multi-az", "web-asg")
    assert other.status is Status.PASSED and other.tier is None


def test_a_critical_tier_asks_more_backup_retention(account: tuple[ClientFactory, dict[str, str]]) -> None:
    factory, arns = account
    factory.session.client("rds", region_name=REGION).add_tags_to_resource(
        ResourceName=arns["orders-db"], Tags=[{"Key": "relaudit:tier", "Value": "critical"}]
    )
    config = """
policies:
  critical:
    severity: {rds-db-instance-backup-retention: CRITICAL}
    parameters: {rds-db-instance-backup-retention: {min_retention_days: 14}}
"""
    result = _audit(factory, config, sinks=False)
    orders = _finding(result, "rds-db-instance-backup-retention", "orders-db")  # 7 days: enough by default
    assert (orders.status, orders.severity, orders.tier) == (Status.FAILED, "CRITICAL", "critical")
    reports = _finding(result, "rds-db-instance-backup-retention", "reports-db")
    assert (reports.status, reports.severity, reports.tier) == (Status.PASSED, "HIGH", None)


@pytest.mark.parametrize(("suppress_both", "expected"), [(True, cli.EXIT_OK), (False, cli.EXIT_FAILED)])
def test_fail_on_high_ignores_suppressed_failures_only(
    account: tuple[ClientFactory, dict[str, str]], tmp_path: Path, suppress_both: bool, expected: int
) -> None:
    # In scope, the HIGH failures are reports-db (Multi-AZ) and ledger-db (retention; its tag suppresses it).
    config = tmp_path / "relaudit.yaml"
    targets = "[rds-db-instance-multi-az]" if suppress_both else "[rds-db-instance-deletion-protection]"
    config.write_text(
        f"suppressions:\n  - checks: {targets}\n    resources: ['*:db:reports-db']\n    reason: dev database\n"
    )
    checks = "rds-db-instance-multi-az,rds-db-instance-backup-retention"
    args = ["audit", "--regions", REGION, "--checks", checks, "--config", str(config), "--fail-on", "HIGH"]
    assert cli.main(args) == expected


def test_a_refused_workflow_update_leaves_the_table_unchanged_and_is_retried_next_run(
    account: tuple[ClientFactory, dict[str, str]],
) -> None:
    # The Workflow step runs inside each scope's publishing, between Security Hub's import and the
    # table's write: a refused BatchUpdateFindings must not be recorded as the note Security Hub
    # shows, so the next run sends it again.
    factory, _ = account

    def refused(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, "BatchUpdateFindings")

    hub_client = factory.client("securityhub", REGION)
    hub_client.meta.events.register_first("before-call.securityhub.BatchUpdateFindings", refused)
    first = _audit(factory, CONFIG)

    (hub,) = [s for s in first.summary.sinks if s.sink == "securityhub"]
    assert (hub.workflow, hub.workflow_failed) == (0, 2)
    assert hub.errors.get("AccessDeniedException") == 2
    assert first.summary.result == "partial" and first.summary.undelivered_findings == 2
    suppressed = sorted(f.id for f in first.findings if f.suppression)
    assert [_workflow(factory, finding_id)[0] for finding_id in suppressed] == [None, None]

    hub_client.meta.events.unregister("before-call.securityhub.BatchUpdateFindings", refused)
    calls = securityhub_workflow.install(factory, [REGION])
    again = _audit(factory, CONFIG)
    assert sorted(i["Id"] for call in calls for i in call["FindingIdentifiers"]) == suppressed
    assert [_workflow(factory, finding_id)[0] for finding_id in suppressed] == ["SUPPRESSED", "SUPPRESSED"]
    (hub,) = [s for s in again.summary.sinks if s.sink == "securityhub"]
    assert (hub.workflow, hub.workflow_failed) == (2, 0)


def test_tiers_chosen_by_workload_from_the_resources_tags(account: tuple[ClientFactory, dict[str, str]]) -> None:
    factory, arns = account
    rds = factory.session.client("rds", region_name=REGION)
    app = "arn:aws:resource-groups:us-east-1:123456789012:group/orders/0123456789abcdef"
    rds.add_tags_to_resource(ResourceName=arns["orders-db"], Tags=[{"Key": "awsApplication", "Value": app}])
    rds.add_tags_to_resource(ResourceName=arns["reports-db"], Tags=[{"Key": "service", "Value": "analytics"}])
    config = """
workload_tag: service
policies:
  critical:
    workloads: [orders]
    parameters: {rds-db-instance-backup-retention: {min_retention_days: 14}}
  dev:
    workloads: [analytics]
    skip_checks: [rds-db-instance-multi-az]
"""
    result = _audit(factory, config, sinks=False)
    orders = _finding(result, "rds-db-instance-backup-retention", "orders-db")
    assert (orders.status, orders.tier) == (Status.FAILED, "critical")  # 7 days: enough by default
    reports = _finding(result, "rds-db-instance-multi-az", "reports-db")
    assert (reports.status, reports.tier) == (Status.NOT_APPLICABLE, "dev")
    ledger = _finding(result, "rds-db-instance-backup-retention", "ledger-db")
    assert ledger.tier is None
