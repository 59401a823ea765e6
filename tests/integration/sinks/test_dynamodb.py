"""The findings table on moto: schema, conditional upserts, history batches with UnprocessedItems, queries.

moto never returns UnprocessedItems and accepts 26 items per BatchWriteItem (moto-notes §3): both
are asserted on the calls the sink makes, with UnprocessedItems injected through botocore hooks.
TTL is stored but moto does not expire items, so tests assert the expires_at values instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from relaudit.errors import RelauditError
from relaudit.models.check import Status
from relaudit.sinks import table_schema
from relaudit.sinks.asff import iso
from relaudit.sinks.dynamodb import FindingsTable, ensure_table
from relaudit.sinks.lifecycle import HistoryEvent, StoredFinding
from tests.integration.sinks.conftest import TABLE
from tests.integration.sinks.helpers import count_calls, fail_calls, fast_options, leave_unprocessed, make_finding

T0 = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)


def stored(name: str, at: dt.datetime = T0, **kwargs: Any) -> StoredFinding:
    finding = make_finding(name, **kwargs)
    return StoredFinding(
        finding=finding,
        record_state="ACTIVE",
        first_seen=iso(T0),
        last_seen=iso(at),
        status_changed_at=iso(T0),
        updated_at=iso(at),
        run_id="run-1",
    )


def event(name: str, at: dt.datetime = T0, kind: Any = "NEW") -> HistoryEvent:
    return HistoryEvent(
        finding=make_finding(name),
        at=iso(at),
        event=kind,
        status=Status.FAILED,
        previous_status=None,
        record_state="ACTIVE",
        run_id="run-1",
    )


def test_create_table_matches_the_schema_and_is_idempotent(factory: Any) -> None:
    ddb = factory.client("dynamodb")
    assert ensure_table(ddb, "audit-table") is True
    described = ddb.describe_table(TableName="audit-table")["Table"]
    assert described["KeySchema"] == table_schema.KEY_SCHEMA
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {"by-scope", "by-status"}
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName="audit-table")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    backups = ddb.describe_continuous_backups(TableName="audit-table")["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert ensure_table(ddb, "audit-table") is False


def test_a_foreign_table_is_refused(factory: Any) -> None:
    ddb = factory.client("dynamodb")
    ddb.create_table(
        TableName="someone-elses",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(RelauditError, match="not a relaudit findings table"):
        ensure_table(ddb, "someone-elses")


def test_upsert_is_idempotent_and_conditional_on_updated_at(table: Any) -> None:
    first = stored("orders")
    assert table.put_findings([first]).written == {first.finding.id}
    assert table.put_findings([first]).superseded == {first.finding.id}, "same updated_at: not rewritten"
    newer = replace(first, last_seen=iso(T0 + dt.timedelta(days=1)), updated_at=iso(T0 + dt.timedelta(days=1)))
    assert table.put_findings([newer]).written == {first.finding.id}
    older = replace(first, finding=first.finding.model_copy(update={"status": Status.PASSED}))
    assert table.put_findings([older]).superseded == {first.finding.id}, "an older writer never wins"
    (item,) = table.current("123456789012", "us-east-1")
    assert (item["status"], item["last_seen"]) == ("FAILED", iso(T0 + dt.timedelta(days=1)))
    assert table.load_scope("123456789012", "us-east-1") == [newer]


def test_throttled_put_is_retried_then_reported(table: Any, options: Any) -> None:
    injected = fail_calls(table.client, "PutItem", "ProvisionedThroughputExceededException", times=2)
    assert table.put_findings([stored("a")]).written == {stored("a").finding.id}
    assert len(injected) == 2
    fail_calls(table.client, "PutItem", "AccessDeniedException")
    assert table.put_findings([stored("b")]).failed == {stored("b").finding.id: "AccessDeniedException"}


def test_history_goes_in_batches_of_25(table: Any) -> None:
    calls = count_calls(table.client, "BatchWriteItem")
    events = [event(f"q{i}") for i in range(60)]
    outcome = table.write_history(events)
    assert [len(c["RequestItems"][TABLE]) for c in calls] == [25, 25, 10]
    assert outcome.written == {e.finding.id for e in events} and not outcome.failed


def test_unprocessed_items_are_retried_with_backoff(table: Any, options: Any) -> None:
    fake = options[1]
    left = leave_unprocessed(table.client, lambda call, items: 7 if call <= 2 else 0)
    events = [event(f"q{i}") for i in range(30)]
    outcome = table.write_history(events)
    assert left[:3] == [7, 7, 0]
    assert outcome.written == {e.finding.id for e in events} and not outcome.failed
    assert len(fake.sleeps) == 2 and fake.sleeps[0] < fake.sleeps[1]
    for e in events:
        (item,) = table.finding_history(e.finding.id)
        assert item["event"] == "NEW"


def test_unprocessed_items_that_never_go_are_reported(table: Any, options: Any) -> None:
    leave_unprocessed(table.client, lambda call, items: 3)
    events = [event(f"q{i}") for i in range(10)]
    outcome = table.write_history(events)
    assert len(outcome.failed) == 3 and set(outcome.failed.values()) == {"UnprocessedItems"}
    assert len(outcome.written) == 7
    assert outcome.written | set(outcome.failed) == {e.finding.id for e in events}


def test_history_has_a_ttl_and_answers_resource_and_run_queries(table: Any, options: Any) -> None:
    e = event("orders")
    table.write_history([e, event("orders", T0 + dt.timedelta(days=2), "ARCHIVED")])
    (item, archived) = table.resource_history(e.finding.resource_arn)
    assert item["expires_at"] == int((T0 + options[0].history_ttl).timestamp())
    assert archived["event"] == "ARCHIVED"
    assert [c["finding_id"] for c in table.changes("run-1")] == [e.finding.id, e.finding.id]


def test_very_long_arns_are_hashed_into_the_index_key(table: Any) -> None:
    long_arn = "arn:aws:sqs:us-east-1:123456789012:" + "ü" * 900
    finding = make_finding(arn=long_arn)
    e = replace(event("x"), finding=finding)
    assert not table.write_history([e]).failed
    assert table.resource_history(long_arn)[0]["resource_arn"] == long_arn


def test_status_index_lists_failed_findings_most_severe_first(table: Any) -> None:
    from relaudit.models.check import Severity

    table.put_findings([stored(f"q{s.value}", severity=s) for s in Severity])
    ranks = [item["severity"] for item in table.by_status("FAILED")]
    assert ranks == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]
    assert [i["severity"] for i in table.by_status("FAILED", min_rank=Severity.HIGH.rank)] == ["CRITICAL", "HIGH"]


def test_run_records_newest_first(table: Any) -> None:
    ticks = iter(T0 + dt.timedelta(seconds=n) for n in range(10))
    ticking = FindingsTable(table.client, table.name, fast_options(clock=lambda: next(ticks))[0])
    for number in range(3):
        ticking.put_run({"run_id": f"run-{number}", "started_at": iso(T0), "result": "complete"})
    runs = ticking.runs(limit=2)
    assert [r["run_id"] for r in runs] == ["run-2", "run-1"]
    assert runs[0]["expires_at"] == int((T0 + dt.timedelta(seconds=2, days=365)).timestamp())
