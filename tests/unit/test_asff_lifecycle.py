"""The lifecycle rules (pure): what is sent, archived, resolved, kept, and never touched."""

from __future__ import annotations

import datetime as dt

import pytest

from relaudit.models.check import Severity, Status
from relaudit.sinks.asff import iso, parse_iso
from relaudit.sinks.lifecycle import StoredFinding, Transition, acknowledged, next_update, plan_lifecycle, slice_of
from tests.integration.sinks.helpers import assert_valid_asff, make_finding

T0 = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def scope_of(*findings: object) -> frozenset[tuple[str, str, str]]:
    return frozenset(slice_of(f) for f in findings)  # type: ignore[arg-type]


def run_once(findings: list, stored: list[StoredFinding], now: dt.datetime, scope=None, securityhub: bool = True):
    scope = scope if scope is not None else scope_of(*findings, *(s.finding for s in stored))
    return plan_lifecycle(findings, stored, scope, now, f"run-{now:%d%H%M}", securityhub=securityhub)


def settle(transitions: list[Transition], now: dt.datetime) -> list[StoredFinding]:
    """What the table holds after a run in which every import and write succeeded."""
    return [acknowledged(t, iso(now)) if t.asff else t.state for t in transitions if t.write or t.asff]


def by_id(transitions: list[Transition]) -> dict[str, Transition]:
    return {t.finding_id: t for t in transitions}


def test_new_finding_is_sent_with_first_sighting_times() -> None:
    finding = make_finding()
    (t,) = run_once([finding], [], T0)
    assert t.event is not None and t.event.event == "NEW"
    assert t.asff is not None and t.asff["Id"] == finding.id
    assert t.asff["CreatedAt"] == t.asff["FirstObservedAt"] == t.state.first_seen == iso(T0)
    assert t.asff["RecordState"] == "ACTIVE" and t.asff["Compliance"]["Status"] == "FAILED"
    assert_valid_asff([t.asff])


def test_unchanged_finding_is_not_resent_until_the_refresh_interval() -> None:
    finding = make_finding()
    stored = settle(run_once([finding], [], T0), T0)
    (again,) = run_once([finding], stored, T0 + DAY)
    assert again.asff is None and again.unchanged and again.event is None
    assert not again.write, "unchanged: no table write either (the refresh policy)"
    (refreshed,) = run_once([finding], stored, T0 + 7 * DAY)
    assert refreshed.asff is not None, "refreshed well before Security Hub's 90-day expiry"
    assert refreshed.state.last_seen == iso(T0 + 7 * DAY)
    assert refreshed.asff["CreatedAt"] == iso(T0), "CreatedAt stays the first sighting"
    assert refreshed.asff["UpdatedAt"] == iso(T0 + 7 * DAY)


def test_zero_refresh_resends_every_run() -> None:
    finding = make_finding()
    stored = settle(run_once([finding], [], T0), T0)
    (t,) = plan_lifecycle(
        [finding], stored, scope_of(finding), T0 + DAY, "r", securityhub=True, refresh=dt.timedelta(0)
    )
    assert t.asff is not None


def test_fixed_defect_turns_passed_and_stays_active() -> None:
    failing = make_finding()
    stored = settle(run_once([failing], [], T0), T0)
    fixed = failing.model_copy(update={"status": Status.PASSED})
    (t,) = run_once([fixed], stored, T0 + DAY)
    assert t.asff is not None
    assert t.asff["Compliance"]["Status"] == "PASSED" and t.asff["RecordState"] == "ACTIVE"
    assert t.event is not None and (t.event.event, t.event.previous_status) == ("STATUS_CHANGED", Status.FAILED)
    assert t.state.resolved_at == iso(T0 + DAY) and t.state.first_seen == iso(T0)
    # Failing again clears resolved_at.
    (again,) = run_once([failing], settle([t], T0 + DAY), T0 + 2 * DAY)
    assert again.state.resolved_at is None and again.asff is not None


def test_gone_resource_is_archived_only_inside_completed_units() -> None:
    kept, gone = make_finding("kept"), make_finding("gone")
    other_region = make_finding("elsewhere", region="eu-west-1")
    other_check = make_finding("other-check", check_id="sqs-queue-encrypted")
    stored = settle(run_once([kept, gone, other_region, other_check], [], T0), T0)
    transitions = by_id(run_once([kept], stored, T0 + DAY, scope=scope_of(kept)))
    assert set(transitions) == {kept.id, gone.id}, "nothing outside the completed unit is touched"
    archived = transitions[gone.id]
    assert archived.asff is not None and archived.asff["RecordState"] == "ARCHIVED"
    assert archived.asff["Compliance"]["Status"] == "FAILED"
    assert archived.state.record_state == "ARCHIVED" and archived.state.resolved_at == iso(T0 + DAY)
    assert archived.event is not None and archived.event.event == "ARCHIVED"
    assert_valid_asff([archived.asff])


def test_archived_and_acknowledged_is_left_alone_and_reappearing_is_active_again() -> None:
    finding = make_finding()
    stored = settle(run_once([finding], [], T0), T0)
    stored = settle(run_once([], stored, T0 + DAY, scope=scope_of(finding)), T0 + DAY)
    assert run_once([], stored, T0 + 2 * DAY, scope=scope_of(finding)) == []
    (back,) = run_once([finding], stored, T0 + 3 * DAY)
    assert back.event is not None and back.event.event == "REAPPEARED"
    assert back.asff is not None and back.asff["RecordState"] == "ACTIVE"
    assert back.asff["CreatedAt"] == iso(T0)


def test_archive_that_security_hub_missed_is_retried_without_rewriting_the_item() -> None:
    finding = make_finding()
    stored = settle(run_once([finding], [], T0), T0)
    (archive,) = run_once([], stored, T0 + DAY, scope=scope_of(finding))
    lost = [archive.state]  # the table recorded ARCHIVED, Security Hub never acknowledged it
    (retry,) = run_once([], lost, T0 + 2 * DAY, scope=scope_of(finding))
    assert retry.asff is not None and retry.asff["RecordState"] == "ARCHIVED"
    assert retry.event is None and not retry.write
    assert parse_iso(retry.asff["UpdatedAt"]) > parse_iso(archive.state.updated_at)


def test_not_applicable_is_never_sent_but_retires_what_security_hub_holds() -> None:
    na = make_finding(status=Status.NOT_APPLICABLE)
    (t,) = run_once([na], [], T0)
    assert t.asff is None and t.write and not t.unchanged
    failing = na.model_copy(update={"status": Status.FAILED})
    stored = settle(run_once([failing], [], T0), T0)
    (retire,) = run_once([na], stored, T0 + DAY)
    assert retire.asff is not None
    assert (retire.asff["Compliance"]["Status"], retire.asff["RecordState"]) == ("NOT_AVAILABLE", "ARCHIVED")
    assert_valid_asff([retire.asff])
    (quiet,) = run_once([na], settle([retire], T0 + DAY), T0 + 2 * DAY)
    assert quiet.asff is None


def test_gone_finding_never_sent_is_archived_in_the_table_only() -> None:
    na = make_finding(status=Status.NOT_APPLICABLE)
    stored = settle(run_once([na], [], T0), T0)
    (t,) = run_once([], stored, T0 + DAY, scope=scope_of(na))
    assert t.asff is None and t.state.record_state == "ARCHIVED" and t.write


@pytest.mark.parametrize("skew", [dt.timedelta(0), -dt.timedelta(hours=1)])
def test_updated_at_strictly_increases_even_when_the_clock_does_not(skew: dt.timedelta) -> None:
    finding = make_finding()
    stamps = []
    stored: list[StoredFinding] = []
    for flip in range(4):
        now = T0 + skew * flip
        current = finding.model_copy(update={"status": Status.PASSED if flip % 2 else Status.FAILED})
        (t,) = run_once([current], stored, now)
        assert t.asff is not None
        stamps.append(t.asff["UpdatedAt"])
        stored = settle([t], now)
    assert stamps == sorted(set(stamps)), stamps


def test_next_update_is_one_millisecond_after_a_later_previous() -> None:
    assert next_update(T0, iso(T0 + DAY)) == iso(T0 + DAY + dt.timedelta(milliseconds=1))
    assert next_update(T0 + DAY, iso(T0)) == iso(T0 + DAY)
    assert next_update(T0, None) == iso(T0)


def test_without_security_hub_nothing_is_sent_and_its_state_is_kept() -> None:
    finding = make_finding()
    stored = settle(run_once([finding], [], T0), T0)
    fixed = finding.model_copy(update={"status": Status.PASSED})
    (t,) = run_once([fixed], stored, T0 + DAY, securityhub=False)
    assert t.asff is None and t.state.sh_hash == stored[0].sh_hash and t.state.sh_record_state == "ACTIVE"
    (later,) = run_once([fixed], [t.state], T0 + 2 * DAY)
    assert later.asff is not None and later.asff["Compliance"]["Status"] == "PASSED", "caught up once enabled"


def test_duplicate_ids_in_one_run_are_planned_once() -> None:
    finding = make_finding()
    assert len(run_once([finding, finding], [], T0)) == 1


def test_a_finding_of_an_incomplete_unit_keeps_its_history() -> None:
    # A unit with a gap can still yield findings (collected without one enrichment): they are not new.
    finding = make_finding()
    stored = settle(run_once([finding], [], T0), T0)
    (t,) = run_once([finding], stored, T0 + DAY, scope=frozenset())
    assert t.event is None and t.unchanged and t.state.first_seen == iso(T0)


@pytest.mark.parametrize("verdict", [Status.FAILED, Status.PASSED, Status.NOT_APPLICABLE])
def test_unknown_never_overwrites_a_stored_verdict_and_only_adds_history(verdict: Status) -> None:
    judged = make_finding(status=verdict)
    stored = settle(run_once([judged], [], T0), T0)
    unknown = make_finding(status=Status.UNKNOWN)
    (t,) = run_once([unknown], stored, T0 + DAY)
    assert t.state == stored[0], "verdict, record state, Security Hub state: all as stored"
    assert not t.write and t.asff is None and not t.unchanged
    assert t.event is not None and (t.event.event, t.event.status, t.event.previous_status) == (
        "UNKNOWN",
        Status.UNKNOWN,
        verdict,
    )
    assert t.event.record_state == stored[0].record_state and t.event.finding.reason == unknown.reason


def test_unknown_neither_archives_nor_is_archived_while_its_resource_is_there() -> None:
    judged = make_finding()
    stored = settle(run_once([judged], [], T0), T0)
    (t,) = run_once([make_finding(status=Status.UNKNOWN)], stored, T0 + DAY, scope=scope_of(judged))
    assert t.state.record_state == "ACTIVE" and (t.event is None or t.event.event != "ARCHIVED")


def test_a_new_unknown_is_stored_but_never_sent() -> None:
    unknown = make_finding(status=Status.UNKNOWN)
    (t,) = run_once([unknown], [], T0)
    assert t.asff is None and t.write and t.state.finding.status is Status.UNKNOWN
    assert t.event is not None and t.event.event == "NEW"
    judged = make_finding(status=Status.FAILED)
    (later,) = run_once([judged], settle([t], T0), T0 + DAY)
    assert later.asff is not None and later.asff["Compliance"]["Status"] == "FAILED"
    assert later.event is not None and (later.event.event, later.event.previous_status) == (
        "STATUS_CHANGED",
        Status.UNKNOWN,
    )


def test_unknown_is_never_mapped_to_asff() -> None:
    from relaudit.sinks.asff import to_asff

    with pytest.raises(ValueError, match="UNKNOWN"):
        to_asff(make_finding(status=Status.UNKNOWN), created_at=iso(T0), updated_at=iso(T0))


def test_the_table_item_is_rewritten_only_when_something_changed_or_last_seen_is_due() -> None:
    finding = make_finding()
    stored = settle(run_once([finding], [], T0, securityhub=False), T0)
    (same,) = run_once([finding], stored, T0 + DAY, securityhub=False)
    assert not same.write and same.event is None
    changed = make_finding(severity=Severity.HIGH)
    assert run_once([changed], stored, T0 + DAY, securityhub=False)[0].write, "content changed"
    fixed = make_finding(status=Status.PASSED)
    (t,) = run_once([fixed], stored, T0 + DAY, securityhub=False)
    assert t.write and t.event is not None and t.event.event == "STATUS_CHANGED"
    (due,) = run_once([finding], stored, T0 + 7 * DAY, securityhub=False)
    assert due.write and due.state.last_seen == iso(T0 + 7 * DAY), "last_seen refreshed on the interval"
