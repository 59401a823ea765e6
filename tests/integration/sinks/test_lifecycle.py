"""The whole run on moto with both sinks: every finding once, re-runs, fixes, deletions, narrowed runs, faults.

After each scenario every finding is either where it belongs or counted as undelivered (and the
run is partial). moto's get_findings ignores Filters (moto-notes §2), so tests filter client-side.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from relaudit.catalog.loader import load_catalog
from relaudit.demo.seed import seed
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Status
from relaudit.models.request import AuditRequest
from relaudit.policy.config import parse_config
from relaudit.run import run
from relaudit.sinks.dynamodb import FindingsTable
from tests.integration.sinks.conftest import TABLE
from tests.integration.sinks.helpers import (
    ACCOUNT,
    all_sh_findings,
    assert_valid_asff,
    fail_calls,
    fail_some_findings,
    fast_options,
    leave_unprocessed,
)
from tests.support import securityhub_workflow

CATALOG = load_catalog(known_types=COLLECTORS)
SQS_CHECK = "sqs-queue-redrive-policy-configured"
REGIONS = ("us-east-1", "eu-west-1")
T0 = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)


class Clock:
    """Wall clock for the sinks that moves a day per run (so the re-send policy can be exercised)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit(factory: Any, table: Any, clock: Clock) -> Any:
    """audit(regions=..., checks=..., sinks=...) -> AuditResult, with no real sleeping."""

    def go(
        regions: tuple[str, ...] = REGIONS,
        checks: tuple[str, ...] = (SQS_CHECK,),
        sinks: tuple[str, ...] = (),
        config: str = "",
    ) -> Any:
        request = AuditRequest(
            regions=list(regions),
            checks=list(checks),
            sinks=list(sinks or ("securityhub", "dynamodb")),
            table=TABLE,
            max_workers=4,
            config=parse_config(config, "test"),
        )
        options = fast_options(clock=clock)[0]
        return run(request, CATALOG, factory, delivery_options=options)

    return go


def queues(factory: Any, region: str) -> dict[str, str]:
    """orders (redrive: PASSED), orders-dlq (a DLQ: NOT_APPLICABLE), emails (FAILED); name -> URL."""
    sqs = factory.client("sqs", region)
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    orders = sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    emails = sqs.create_queue(QueueName="emails")["QueueUrl"]
    return {"orders": orders, "orders-dlq": dlq, "emails": emails, "dlq_arn": dlq_arn}


@pytest.fixture
def seeded(factory: Any) -> dict[str, dict[str, str]]:
    return {region: queues(factory, region) for region in REGIONS}


def hub(factory: Any, region: str) -> dict[str, dict[str, Any]]:
    """Security Hub's findings in one region, by id (asserting no id appears twice)."""
    found = all_sh_findings(factory.client("securityhub", region))
    ids = [f["Id"] for f in found]
    assert len(ids) == len(set(ids)), "a finding appears twice"
    return {f["Id"]: f for f in found}


def by_name(result: Any) -> dict[tuple[str, str], Any]:
    return {(f.region, f.resource_name): f for f in result.findings}


def sink(result: Any, name: str) -> Any:
    return next(r for r in result.summary.sinks if r.sink == name)


def test_every_passed_and_failed_finding_lands_once_and_valid(
    factory: Any, audit: Any, table: Any, seeded: Any
) -> None:
    result = audit()
    assert result.summary.result == "complete" and result.summary.undelivered_findings == 0
    sendable = {f.id for f in result.findings if f.status is not Status.NOT_APPLICABLE}
    in_hub = {**hub(factory, "us-east-1"), **hub(factory, "eu-west-1")}
    assert set(in_hub) == sendable, "each PASSED/FAILED finding under its own id, no NOT_APPLICABLE"
    assert_valid_asff(in_hub.values())
    # moto's stores per region are separate: each finding is in its own region only.
    assert all(f["Region"] == f["Id"].split("/")[2] for f in in_hub.values())
    stored = {i["id"]: i for r in REGIONS for i in table.current(ACCOUNT, r)}
    assert set(stored) == {f.id for f in result.findings}, "DynamoDB holds every finding, N/A included"
    assert sink(result, "securityhub").not_applicable == 2
    (run_record,) = table.runs()
    assert (run_record["run_id"], run_record["result"]) == (result.summary.run_id, "complete")
    assert run_record["completed_units"] == 2 and run_record["checks"] == [SQS_CHECK]


def test_second_run_adds_no_duplicate_and_resends_nothing_unchanged(
    factory: Any, audit: Any, table: Any, clock: Clock, seeded: Any
) -> None:
    first = audit()
    clock.now += dt.timedelta(days=1)
    second = audit()
    assert [f.id for f in first.findings] == [f.id for f in second.findings]
    assert sink(second, "securityhub").delivered == 0 and sink(second, "securityhub").unchanged == 4
    assert len(hub(factory, "us-east-1")) == 2 and len(table.current(ACCOUNT, "us-east-1")) == 3
    assert table.changes(second.summary.run_id) == [], "nothing changed"
    assert len(table.runs()) == 2
    assert sink(second, "dynamodb").delivered == 0, "nothing changed: no item written (the refresh policy)"
    item = table.current(ACCOUNT, "us-east-1")[0]
    assert (item["first_seen"], item["last_seen"]) == ("2026-03-01T06:00:00.000Z", "2026-03-01T06:00:00.000Z")
    clock.now += dt.timedelta(days=7)
    refreshed = audit()
    assert sink(refreshed, "securityhub").delivered == 4, "refreshed long before the 90-day expiry"
    assert sink(refreshed, "dynamodb").delivered == 6, "and every item records the sighting again"
    item = table.current(ACCOUNT, "us-east-1")[0]
    assert item["last_seen"] == "2026-03-09T06:00:00.000Z"


def test_fixing_a_defect_turns_its_finding_passed(
    factory: Any, audit: Any, table: Any, clock: Clock, seeded: Any
) -> None:
    before = by_name(audit())[("us-east-1", "emails")]
    sqs = factory.client("sqs", "us-east-1")
    redrive = json.dumps({"deadLetterTargetArn": seeded["us-east-1"]["dlq_arn"], "maxReceiveCount": "5"})
    sqs.set_queue_attributes(QueueUrl=seeded["us-east-1"]["emails"], Attributes={"RedrivePolicy": redrive})
    clock.now += dt.timedelta(days=1)
    after = audit()
    assert by_name(after)[("us-east-1", "emails")].status is Status.PASSED
    shown = hub(factory, "us-east-1")[before.id]
    assert (shown["Compliance"]["Status"], shown["RecordState"]) == ("PASSED", "ACTIVE")
    assert shown["CreatedAt"] == "2026-03-01T06:00:00.000Z" < shown["UpdatedAt"]
    (item,) = [i for i in table.current(ACCOUNT, "us-east-1") if i["id"] == before.id]
    assert item["resolved_at"] == "2026-03-02T06:00:00.000Z" and item["status"] == "PASSED"
    assert [(h["event"], h["status"]) for h in table.finding_history(before.id)] == [
        ("NEW", "FAILED"),
        ("STATUS_CHANGED", "PASSED"),
    ]


def test_deleting_a_resource_archives_its_findings(
    factory: Any, audit: Any, table: Any, clock: Clock, seeded: Any
) -> None:
    gone = by_name(audit())[("us-east-1", "emails")]
    factory.client("sqs", "us-east-1").delete_queue(QueueUrl=seeded["us-east-1"]["emails"])
    clock.now += dt.timedelta(days=1)
    result = audit()
    assert sink(result, "securityhub").archived == 1 and sink(result, "dynamodb").archived == 1
    assert hub(factory, "us-east-1")[gone.id]["RecordState"] == "ARCHIVED"
    assert [i["id"] for i in table.by_status("ARCHIVED")] == [gone.id]
    assert [(c["finding_id"], c["event"]) for c in table.changes(result.summary.run_id)] == [(gone.id, "ARCHIVED")]
    clock.now += dt.timedelta(days=1)
    assert sink(audit(), "securityhub").archived == 0, "archived once, not again"


def test_a_narrowed_run_archives_nothing_outside_it(factory: Any, audit: Any, clock: Clock, seeded: Any) -> None:
    first = audit()
    for region in REGIONS:
        factory.client("sqs", region).delete_queue(QueueUrl=seeded[region]["emails"])
    clock.now += dt.timedelta(days=1)
    audit(regions=("us-east-1",))
    west = hub(factory, "eu-west-1")
    assert {f["RecordState"] for f in west.values()} == {"ACTIVE"}, "eu-west-1 was not audited"
    east_gone = by_name(first)[("us-east-1", "emails")].id
    assert hub(factory, "us-east-1")[east_gone]["RecordState"] == "ARCHIVED"
    # A run of another check archives nothing of this one either.
    clock.now += dt.timedelta(days=1)
    audit(regions=("eu-west-1",), checks=("lambda-function-reserved-concurrency-set",))
    assert {f["RecordState"] for f in hub(factory, "eu-west-1").values()} == {"ACTIVE"}


def test_a_failed_unit_archives_nothing_in_it(factory: Any, audit: Any, clock: Clock, seeded: Any) -> None:
    audit()
    factory.client("sqs", "us-east-1").delete_queue(QueueUrl=seeded["us-east-1"]["emails"])
    fail_calls(factory.client("sqs", "us-east-1"), "ListQueues", "AccessDenied", status=403)
    clock.now += dt.timedelta(days=1)
    result = audit()
    assert result.summary.result == "partial" and result.summary.coverage_gaps == 1
    assert {f["RecordState"] for f in hub(factory, "us-east-1").values()} == {"ACTIVE"}
    assert sink(result, "securityhub").archived == 0


def test_security_hub_not_enabled_in_a_region(factory: Any, audit: Any, table: Any, clock: Clock, seeded: Any) -> None:
    # moto imports even where Security Hub is not enabled; the real service answers InvalidAccessException.
    west_hub = factory.client("securityhub", "eu-west-1")
    fail_calls(west_hub, "BatchImportFindings", "InvalidAccessException", times=1)
    result = audit()
    report = sink(result, "securityhub")
    assert report.not_enabled == 2 and report.undelivered == 0
    assert any("not enabled in 123456789012/eu-west-1" in note for note in report.notes)
    assert result.summary.result == "complete", "a region without Security Hub is a note, not a failure"
    assert hub(factory, "eu-west-1") == {}
    assert len(table.current(ACCOUNT, "eu-west-1")) == 3, "the findings still reach DynamoDB"
    clock.now += dt.timedelta(days=1)
    later = audit()  # enabled now: what it never acknowledged is sent, though unchanged
    assert sink(later, "securityhub").delivered == 2 and len(hub(factory, "eu-west-1")) == 2


def test_throttling_and_partial_failures_end_delivered(factory: Any, audit: Any, table: Any, seeded: Any) -> None:
    east_hub = factory.client("securityhub", "us-east-1")
    fail_calls(east_hub, "BatchImportFindings", "ThrottlingException", times=1, status=429)
    fail_some_findings(
        factory.client("securityhub", "eu-west-1"), lambda call, ids: set(ids[:1]) if call == 1 else set()
    )
    leave_unprocessed(table.client, lambda call, items: 2 if call == 1 else 0)
    result = audit()
    assert result.summary.undelivered_findings == 0 and result.summary.result == "complete"
    assert len(hub(factory, "us-east-1")) == 2 and len(hub(factory, "eu-west-1")) == 2
    assert sum(len(table.finding_history(f.id)) for f in result.findings) == 6


def test_what_still_fails_is_reported_and_sent_next_time(
    factory: Any, audit: Any, table: Any, clock: Clock, seeded: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stuck = fail_calls(factory.client("securityhub", "us-east-1"), "BatchImportFindings", "ServiceUnavailable", 5, 503)
    result = audit()
    assert len(stuck) == 5
    assert result.summary.result == "partial" and result.summary.undelivered_findings == 2
    report = sink(result, "securityhub")
    assert (report.undelivered, report.errors) == (2, {"ServiceUnavailable": 2})
    assert "finding not delivered" in caplog.text and "undelivered findings" in caplog.text
    assert len(table.current(ACCOUNT, "us-east-1")) == 3, "the table has them; Security Hub does not yet"
    clock.now += dt.timedelta(days=1)
    again = audit()
    assert again.summary.undelivered_findings == 0 and sink(again, "securityhub").delivered == 2
    assert len(hub(factory, "us-east-1")) == 2


def test_missing_table_is_reported_not_raised(factory: Any, clock: Clock, seeded: Any) -> None:
    request = AuditRequest(
        regions=["us-east-1"], checks=[SQS_CHECK], sinks=["securityhub", "dynamodb"], table="no-such-table"
    )
    result = run(request, CATALOG, factory, delivery_options=fast_options(clock=clock)[0])
    assert result.summary.result == "partial" and result.summary.undelivered_findings == 3
    assert any("ResourceNotFoundException" in n for n in sink(result, "dynamodb").notes)
    assert hub(factory, "us-east-1") == {}, "nothing sent without the lifecycle state"


@pytest.fixture
def planted(factory: Any) -> Iterator[Any]:
    session = boto3.session.Session()
    yield seed(lambda service, region: session.client(service, region_name=region), ("us-east-1",))


def test_the_seeded_demo_account_end_to_end(factory: Any, table: Any, clock: Clock, planted: Any) -> None:
    """Every check on the seeded account: every PASSED/FAILED finding in Security Hub once, all in the table.

    Without the demo's hooks moto has no AWS Backup ListProtectedResources: the checks reading
    AwsBackup are UNKNOWN, kept in the table and never sent to Security Hub.
    """
    request = AuditRequest(regions=["us-east-1"], sinks=["securityhub", "dynamodb"], table=TABLE, max_workers=4)
    result = run(request, CATALOG, factory, delivery_options=fast_options(clock=clock)[0])
    assert result.summary.undelivered_findings == 0
    unknown = {f.id for f in result.findings if f.status is Status.UNKNOWN}
    assert unknown and all("AwsBackup" in f.reason for f in result.findings if f.id in unknown)
    assert sink(result, "securityhub").unknown == len(unknown)
    sendable = {f.id for f in result.findings if f.status in (Status.PASSED, Status.FAILED)}
    in_hub = hub(factory, "us-east-1")
    assert set(in_hub) == sendable and len(sendable) > 30
    assert_valid_asff(in_hub.values())
    assert {i["id"] for i in table.current(ACCOUNT, "us-east-1")} == {f.id for f in result.findings}
    clock.now += dt.timedelta(days=1)
    again = run(request, CATALOG, factory, delivery_options=fast_options(clock=clock)[0])
    assert set(hub(factory, "us-east-1")) == sendable and sink(again, "securityhub").delivered == 0


def test_table_reads_back_what_was_written(factory: Any, seeded: Any, audit: Any) -> None:
    result = audit()
    reader = FindingsTable(factory.client("dynamodb"), TABLE)
    failed = reader.by_status("FAILED")
    assert {i["id"] for i in failed} == {f.id for f in result.findings if f.status is Status.FAILED}
    emails = by_name(result)[("us-east-1", "emails")]
    assert [h["event"] for h in reader.resource_history(emails.resource_arn)] == ["NEW"]


def test_sinks_call_exactly_the_actions_they_declare(factory: Any, audit: Any, clock: Clock, seeded: Any) -> None:
    from relaudit.permissions import sink_write_actions

    called: set[str] = set()
    clients = [factory.client("dynamodb"), *(factory.client("securityhub", r) for r in REGIONS)]
    for client in clients:
        prefix = client.meta.service_model.signing_name
        client.meta.events.register("before-call", lambda model, p=prefix, **_: called.add(f"{p}:{model.name}"))
    updates = securityhub_workflow.install(factory, REGIONS)  # moto has no BatchUpdateFindings; it answers first
    result = audit(config=f"suppressions: [{{checks: [{SQS_CHECK}], resources: ['*'], reason: test}}]")
    assert result.summary.suppressed > 0  # their Workflow is set SUPPRESSED
    factory.client("sqs", "us-east-1").delete_queue(QueueUrl=seeded["us-east-1"]["emails"])
    clock.now += dt.timedelta(days=1)
    audit()  # an archive, history, a second run record, suppressions back to NEW
    assert {update["Workflow"]["Status"] for update in updates} == {"SUPPRESSED", "NEW"}
    called.add("securityhub:BatchUpdateFindings")
    assert called == sink_write_actions()
