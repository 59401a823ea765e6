"""The org run's record is the sum of its items' records, as sinks/record.py builds both."""

from __future__ import annotations

import datetime as dt

from relaudit.models.coverage import CoverageGap
from relaudit.models.finding import AuditResult, SinkReport, Summary
from relaudit.models.org import FinalizeStep, ItemStep, OrgTarget
from relaudit.sinks.record import MAX_ITEM_GAPS, ItemTotals, item_key, item_record, org_run_record, run_record

RUN = "20261207T000000Z-org-abcd1234"
STARTED = "2026-12-07T00:00:00Z"


def _result(account: str, region: str, failed: int, gaps: int = 0) -> AuditResult:
    summary = Summary(
        result="partial" if gaps else "complete",
        started_at=STARTED,
        finished_at="2026-12-07T00:01:00Z",
        duration_seconds=60.0,
        accounts=[account],
        regions=[region],
        checks=2,
        resources=3,
        findings={"PASSED": 2, "FAILED": failed},
        failed_by_severity={"HIGH": failed},
        coverage_gaps=gaps,
        run_id=RUN,
        sinks=[SinkReport(sink="dynamodb", delivered=2 + failed, history=1, errors={"Throttling": 1})],
    )
    coverage = [
        CoverageGap(
            account_id=account, region=region, resource_type=f"AWS::T::{n}", error_code="AccessDenied", message="denied"
        )
        for n in range(gaps)
    ]
    return AuditResult(summary=summary, findings=[], coverage_gaps=coverage)


def _step(account: str, region: str) -> ItemStep:
    return ItemStep(run_id=RUN, account=account, region=region, expires_at=1, checks=[], sinks=["dynamodb"])


def test_item_record_keeps_a_bounded_gap_list_and_the_exact_count() -> None:
    record = item_record(_step("111111111111", "eu-west-1"), _result("111111111111", "eu-west-1", 1, gaps=60))

    assert {k: record[k] for k in ("pk", "sk")} == item_key(RUN, "111111111111", "eu-west-1")
    assert record["coverage_gap_count"] == 60 and len(record["coverage_gaps"]) == MAX_ITEM_GAPS


def test_org_run_record_sums_the_items_records() -> None:
    targets = [
        OrgTarget(account="111111111111", region="eu-west-1"),
        OrgTarget(account="222222222222", region="us-east-1"),
    ]
    totals = ItemTotals()
    for target, failed in zip(targets, (1, 2), strict=True):
        totals.add_record(
            item_record(_step(target.account, target.region), _result(target.account, target.region, failed))
        )
    step = FinalizeStep(
        run_id=RUN, started_at=STARTED, accounts=[t.account for t in targets], regions=[], items=targets
    )

    record = org_run_record(step, totals, ["c1"], dt.datetime(2026, 12, 7, 0, 2, tzinfo=dt.UTC))

    assert record["result"] == "complete" and record["duration_seconds"] == 120.0
    assert record["items"]["complete"] == 2 and record["resources"] == 6
    assert record["findings"]["FAILED"] == 3 and record["failed_by_severity"] == {"HIGH": 3}
    assert record["sinks"] == [
        {"sink": "dynamodb", "delivered": 7, "history": 2, "undelivered": 0, "errors": {"Throttling": 2}}
        | dict.fromkeys(("archived", "unchanged", "not_applicable", "not_enabled", "superseded"), 0)
    ]


def test_an_item_gap_makes_the_org_run_partial() -> None:
    target = OrgTarget(account="111111111111", region="eu-west-1")
    totals = ItemTotals()
    totals.add_record(
        item_record(_step(target.account, target.region), _result(target.account, target.region, 0, gaps=1))
    )
    step = FinalizeStep(run_id=RUN, started_at=STARTED, accounts=[target.account], regions=[], items=[target])

    record = org_run_record(step, totals, [], dt.datetime(2026, 12, 7, 0, 2, tzinfo=dt.UTC))

    assert record["result"] == "partial" and record["coverage_gaps_by_code"] == {"AccessDenied": 1}


def test_a_runs_record_counts_its_completed_units() -> None:
    result = _result("111111111111", "eu-west-1", 1).model_copy(
        update={"completed_slices": frozenset({("111111111111", "eu-west-1", "c1")})}
    )

    record = run_record(result, ["c1"])

    assert (record["run_id"], record["completed_units"], record["checks"]) == (RUN, 1, ["c1"])
