"""Security Hub Workflow of suppressed findings: the plan (pure) and the BatchUpdateFindings calls
(botocore Stubber: moto 5.2.6 has no BatchUpdateFindings)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from relaudit.aws import ClientFactory, client_config
from relaudit.models.check import Status
from relaudit.models.finding import Suppression
from relaudit.sinks.asff import iso
from relaudit.sinks.dynamodb import current_item, history_item, stored_finding
from relaudit.sinks.lifecycle import StoredFinding, Transition, acknowledged, plan_lifecycle, slice_of
from relaudit.sinks.workflow import (
    MAX_IDENTIFIERS,
    UNSUPPRESSED_NOTE,
    WorkflowUpdate,
    plan_workflow,
    suppression_note,
    update_workflow,
)
from tests.integration.sinks.helpers import fast_options, make_finding

T0 = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HELD = Suppression(reason="dev queue", expires=dt.date(2027, 1, 31), source="config")


def suppressed(name: str = "orders", rule: Suppression | None = HELD, status: Status = Status.FAILED) -> Any:
    return make_finding(name, status=status).model_copy(update={"suppression": rule})


def lifecycle(findings: list[Any], stored: list[StoredFinding], now: dt.datetime) -> list[Transition]:
    scope = frozenset(slice_of(f) for f in [*findings, *(s.finding for s in stored)])
    return plan_lifecycle(findings, stored, scope, now, "run", securityhub=True)


def settle(transitions: list[Transition], now: dt.datetime, workflow: dict[str, str | None]) -> list[StoredFinding]:
    """The table after a run where every import, workflow update and write succeeded."""
    states = [acknowledged(t, iso(now)) if t.asff else t.state for t in transitions if t.write or t.asff]
    return [replace(s, sh_workflow=workflow.get(s.finding.id, s.sh_workflow)) for s in states]


def test_a_suppressed_finding_is_suppressed_once_then_left_alone() -> None:
    finding = suppressed()
    first = lifecycle([finding], [], T0)
    (update,) = plan_workflow(first, delivered={finding.id})
    assert (update.status, update.finding_id) == ("SUPPRESSED", finding.id)
    assert update.note == suppression_note(finding) and "dev queue" in update.note and "2027-01-31" in update.note
    assert (
        update.product_arn == f"arn:aws:securityhub:us-east-1:{finding.account_id}:product/{finding.account_id}/default"
    )
    assert plan_workflow(first, delivered=set()) == [], "not imported: nothing to update yet"

    stored = settle(first, T0, {finding.id: update.stored})
    again = lifecycle([finding], stored, T0 + DAY)
    assert again[0].asff is None and plan_workflow(again, delivered=set()) == []


def test_a_new_reason_updates_the_note_and_removal_sets_new() -> None:
    finding = suppressed()
    first = lifecycle([finding], [], T0)
    stored = settle(first, T0, {finding.id: plan_workflow(first, {finding.id})[0].stored})

    changed = suppressed(rule=HELD.model_copy(update={"reason": "retired next sprint"}))
    (update,) = plan_workflow(lifecycle([changed], stored, T0 + DAY), delivered=set())
    assert update.status == "SUPPRESSED" and "retired next sprint" in update.note

    removed = lifecycle([suppressed(rule=None)], stored, T0 + DAY)
    (back,) = plan_workflow(removed, delivered=set())
    assert (back.status, back.note, back.stored) == ("NEW", UNSUPPRESSED_NOTE, None)
    fixed = lifecycle([suppressed(rule=None, status=Status.PASSED)], stored, T0 + DAY)
    assert [u.status for u in plan_workflow(fixed, delivered={finding.id})] == ["NEW"]


def test_never_suppressed_and_archived_findings_are_not_touched() -> None:
    plain = suppressed("plain", rule=None)
    assert plan_workflow(lifecycle([plain], [], T0), delivered={plain.id}) == []
    held = suppressed()
    stored = settle(lifecycle([held], [], T0), T0, {held.id: suppression_note(held)})
    gone = lifecycle([], stored, T0 + DAY)  # the resource is gone: archived, Security Hub's workflow left as is
    assert gone[0].state.record_state == "ARCHIVED" and plan_workflow(gone, delivered={held.id}) == []


def test_the_table_keeps_the_note_and_the_history_keeps_who_why_and_until() -> None:
    finding = suppressed()
    (t,) = lifecycle([finding], [], T0)
    state = replace(t.state, sh_workflow="note")
    back = stored_finding(current_item(state, DAY))
    assert back.sh_workflow == "note" and back.finding.suppression == HELD
    assert t.event is not None
    item = history_item(t.event, DAY)
    assert item["suppression"] == {"reason": "dev queue", "expires": "2027-01-31", "source": "config"}
    (unsuppressed,) = lifecycle([suppressed(rule=None)], [back], T0 + DAY)
    assert unsuppressed.event is not None and unsuppressed.event.event == "UNSUPPRESSED"
    assert unsuppressed.state.status_changed_at == back.status_changed_at, "the status did not change"
    old = current_item(state, DAY)
    for key in ("suppression", "tier"):
        old.pop(key, None)
    assert stored_finding(old).finding.suppression is None, "items written before suppressions still read"


@pytest.fixture
def factory() -> ClientFactory:
    return ClientFactory(
        session=boto3.session.Session(region_name="us-east-1"), config=client_config(2, max_attempts=1)
    )


def _update(index: int, note: str = "n", status: str = "SUPPRESSED") -> WorkflowUpdate:
    arn = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
    return WorkflowUpdate(f"id-{index}", arn, "123456789012", "us-east-1", status, note)  # type: ignore[arg-type]


def _request(updates: list[WorkflowUpdate]) -> dict[str, Any]:
    return {
        "FindingIdentifiers": [{"Id": u.finding_id, "ProductArn": u.product_arn} for u in updates],
        "Workflow": {"Status": updates[0].status},
        "Note": {"Text": updates[0].note, "UpdatedBy": "relaudit"},
    }


def test_updates_are_grouped_by_note_in_requests_of_at_most_100(factory: ClientFactory) -> None:
    many = [_update(i, "a") for i in range(MAX_IDENTIFIERS + 1)]
    other = [_update(500, "b", "NEW")]
    client = factory.client("securityhub", "us-east-1")
    with Stubber(client) as stub:
        for chunk in (many[:MAX_IDENTIFIERS], many[MAX_IDENTIFIERS:], other):
            done = {"ProcessedFindings": [], "UnprocessedFindings": []}
            stub.add_response("batch_update_findings", done, _request(chunk))
        outcome = update_workflow([*many, *other], {"123456789012": factory}, fast_options()[0])
        stub.assert_no_pending_responses()
    assert outcome.calls == 3 and not outcome.failed
    assert outcome.done["id-0"] == "a" and outcome.done["id-500"] is None


def test_unprocessed_findings_are_retried_then_reported(factory: ClientFactory) -> None:
    updates = [_update(1), _update(2)]
    client = factory.client("securityhub", "us-east-1")
    identifier = {"Id": "id-2", "ProductArn": updates[1].product_arn}
    not_yet = {
        "ProcessedFindings": [],
        "UnprocessedFindings": [{"FindingIdentifier": identifier, "ErrorCode": "FindingNotFound", "ErrorMessage": "x"}],
    }
    options, fake = fast_options(max_attempts=2)
    with Stubber(client) as stub:
        stub.add_response("batch_update_findings", not_yet, _request(updates))
        stub.add_response("batch_update_findings", not_yet, _request(updates[1:]))
        outcome = update_workflow(updates, {"123456789012": factory}, options)
    assert outcome.done == {"id-1": "n"} and outcome.failed == {"id-2": "FindingNotFound"} and fake.sleeps


def test_a_refused_call_fails_its_findings_with_the_code(factory: ClientFactory) -> None:
    client = factory.client("securityhub", "us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("batch_update_findings", "AccessDeniedException", http_status_code=403)
        outcome = update_workflow([_update(1)], {"123456789012": factory}, fast_options()[0])
    assert outcome.failed == {"id-1": "AccessDeniedException"} and outcome.notes
    lost = update_workflow([_update(1)], {}, fast_options()[0])
    assert lost.failed == {"id-1": "NoCredentialsForAccount"}
