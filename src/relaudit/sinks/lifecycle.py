"""The finding lifecycle (pure): from this run's findings and the stored state, what each sink must do.

Words: a *scope* is one (account, region); a *unit* is what one collector reads, (account,
region, resource type); a *slice* is one check's findings in one scope, (account, region, check).

Rules:
- Only slices that completed in this run, (account, region, check), are reconciled: a stored
  finding outside them is left exactly as it is (a run narrowed by --regions or --checks, or a
  unit or a join that failed, archives nothing).
- A stored finding missing from a completed slice belongs to a resource that is gone: it becomes
  ARCHIVED (and Security Hub gets RecordState ARCHIVED if it holds the finding).
- A finding that now passes is sent as Compliance PASSED, still ACTIVE (Security Hub shows it
  resolved); ``resolved_at`` records when.
- NOT_APPLICABLE is never sent to Security Hub; if Security Hub holds an active finding for it
  (the check applied before), that finding is archived with Compliance NOT_AVAILABLE.
- UNKNOWN (an input could not be read) is not a verdict: a stored finding keeps its verdict and
  record state, is neither re-sent nor archived, and only gets an ``UNKNOWN`` history event (each
  run it stays unknown); a finding never stored before is stored as UNKNOWN and not sent to
  Security Hub.
- Re-send policy: a finding whose ASFF content (everything but UpdatedAt/LastObservedAt) is what
  Security Hub last acknowledged is not re-sent, unless that acknowledgement is older than the
  refresh interval (default 7 days, far inside Security Hub's 90-day expiry).
- Table refresh policy: an unchanged finding (same verdict and content, no transition) is not
  rewritten until its ``last_seen`` is ``refresh`` old (the same interval as Security Hub's), or
  when Security Hub acknowledges a re-send; new, changed, archived and reappearing ones always are.
- CreatedAt/FirstObservedAt are the first sighting; UpdatedAt is strictly increasing per finding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from relaudit.models.check import Status
from relaudit.sinks.asff import content_hash, iso, parse_iso, to_asff

if TYPE_CHECKING:
    from collections.abc import Iterable

    from relaudit.models.finding import Finding

RecordState = Literal["ACTIVE", "ARCHIVED"]
# SUPPRESSED / UNSUPPRESSED (relaudit.policy): the finding's suppression changed, its status did not.
EventName = Literal["NEW", "STATUS_CHANGED", "ARCHIVED", "REAPPEARED", "UNKNOWN", "SUPPRESSED", "UNSUPPRESSED"]
_SUPPRESSION_EVENTS = frozenset({"SUPPRESSED", "UNSUPPRESSED"})
Slices = frozenset[tuple[str, str, str]]  # completed (account, region, check id) slices
DEFAULT_REFRESH = dt.timedelta(days=7)
_TICK = dt.timedelta(milliseconds=1)


@dataclass(frozen=True)
class StoredFinding:
    """A finding's current state as the table keeps it."""

    finding: Finding
    record_state: RecordState
    first_seen: str
    last_seen: str
    status_changed_at: str
    updated_at: str
    run_id: str
    resolved_at: str | None = None
    archived_at: str | None = None
    sh_hash: str | None = None  # content hash of what Security Hub last acknowledged
    sh_record_state: RecordState | None = None
    sh_synced_at: str | None = None  # when Security Hub acknowledged it
    sh_workflow: str | None = None  # the suppression note relaudit set as Security Hub's Workflow (sinks.workflow)

    @property
    def slice_key(self) -> tuple[str, str, str]:
        """The (account, region, check) slice the finding belongs to."""
        return slice_of(self.finding)


@dataclass(frozen=True)
class HistoryEvent:
    """One status transition of one finding (kept with a TTL)."""

    finding: Finding
    at: str
    event: EventName
    status: Status
    previous_status: Status | None
    record_state: RecordState
    run_id: str


@dataclass(frozen=True)
class Transition:
    """What to do with one finding id in this run."""

    state: StoredFinding  # the state to store (Security Hub fields as before; see :func:`acknowledged`)
    previous: StoredFinding | None
    event: HistoryEvent | None = None
    asff: dict[str, Any] | None = None  # what to import into Security Hub; None: nothing to send
    asff_hash: str | None = None
    unchanged: bool = False  # Security Hub already holds this content (policy: not re-sent)
    write: bool = True  # the table item must be written

    @property
    def finding_id(self) -> str:
        """The finding's id."""
        return self.state.finding.id


def slice_of(finding: Finding) -> tuple[str, str, str]:
    """The (account, region, check) slice a finding belongs to."""
    return (finding.account_id, finding.region, finding.check_id)


def next_update(now: dt.datetime, previous: str | None) -> str:
    """This run's UpdatedAt for a finding: now, but always later than the previous one."""
    if previous is not None:
        floor = parse_iso(previous) + _TICK
        if floor > now:
            return iso(floor)
    return iso(now)


def _sh_desired(
    finding: Finding, first_seen: str, last_seen: str, updated_at: str, record_state: RecordState
) -> dict[str, Any]:
    return to_asff(
        finding,
        created_at=first_seen,
        updated_at=updated_at,
        last_observed_at=last_seen,
        record_state=record_state,
    )


def _should_send(
    asff: dict[str, Any], digest: str, previous: StoredFinding | None, now: dt.datetime, refresh: dt.timedelta
) -> bool:
    if previous is None or previous.sh_hash != digest:
        return True
    if asff["RecordState"] == "ARCHIVED":
        return False  # an acknowledged archive needs no refresh
    synced = previous.sh_synced_at
    return synced is None or now - parse_iso(synced) >= refresh


def _resolved_at(previous: StoredFinding | None, status: Status, at: str) -> str | None:
    if status is Status.FAILED:
        return None
    if previous is not None and previous.record_state == "ACTIVE" and previous.finding.status is Status.FAILED:
        return at
    return previous.resolved_at if previous else None


def _event(previous: StoredFinding | None, finding: Finding) -> EventName | None:
    if previous is None:
        return "NEW"
    if previous.record_state == "ARCHIVED":
        return "REAPPEARED"
    if previous.finding.status is not finding.status:
        return "STATUS_CHANGED"
    if previous.finding.suppression != finding.suppression:
        return "SUPPRESSED" if finding.suppression is not None else "UNSUPPRESSED"
    return None


def _unknown(finding: Finding, previous: StoredFinding, now: dt.datetime, run_id: str) -> Transition:
    """A stored finding this run could not judge: left as stored, one history event says why."""
    event = HistoryEvent(
        finding=finding,
        at=next_update(now, previous.updated_at),
        event="UNKNOWN",
        status=Status.UNKNOWN,
        previous_status=previous.finding.status,
        record_state=previous.record_state,
        run_id=run_id,
    )
    return Transition(state=previous, previous=previous, event=event, write=False)


def _current(
    finding: Finding,
    previous: StoredFinding | None,
    now: dt.datetime,
    run_id: str,
    securityhub: bool,
    refresh: dt.timedelta,
) -> Transition:
    if finding.status is Status.UNKNOWN and previous is not None:
        return _unknown(finding, previous, now, run_id)
    at = next_update(now, previous.updated_at if previous else None)
    event = _event(previous, finding)
    state = StoredFinding(
        finding=finding,
        record_state="ACTIVE",
        first_seen=previous.first_seen if previous else at,
        last_seen=at,
        status_changed_at=(
            at if event and event not in _SUPPRESSION_EVENTS else (previous.status_changed_at if previous else at)
        ),
        updated_at=at,
        run_id=run_id,
        resolved_at=_resolved_at(previous, finding.status, at),
        archived_at=None,
        sh_hash=previous.sh_hash if previous else None,
        sh_record_state=previous.sh_record_state if previous else None,
        sh_synced_at=previous.sh_synced_at if previous else None,
        sh_workflow=previous.sh_workflow if previous else None,
    )
    history = None
    if event is not None:
        history = HistoryEvent(
            finding=finding,
            at=at,
            event=event,
            status=finding.status,
            previous_status=previous.finding.status if previous else None,
            record_state="ACTIVE",
            run_id=run_id,
        )
    write = _item_changed(finding, previous, event, now, refresh)
    if not securityhub or finding.status is Status.UNKNOWN:
        return Transition(state=state, previous=previous, event=history, write=write)
    if finding.status is Status.NOT_APPLICABLE:
        if previous is None or previous.sh_record_state != "ACTIVE":
            return Transition(state=state, previous=previous, event=history, write=write)
        asff = _sh_desired(finding, state.first_seen, state.last_seen, at, "ARCHIVED")
    else:
        asff = _sh_desired(finding, state.first_seen, state.last_seen, at, "ACTIVE")
    digest = content_hash(asff)
    if not _should_send(asff, digest, previous, now, refresh):
        return Transition(state=state, previous=previous, event=history, unchanged=True, write=write)
    return Transition(state=state, previous=previous, event=history, asff=asff, asff_hash=digest)


def _item_changed(
    finding: Finding, previous: StoredFinding | None, event: EventName | None, now: dt.datetime, refresh: dt.timedelta
) -> bool:
    """Whether the table item must be written: new, a transition, other content, or ``last_seen`` due a refresh.

    An unchanged finding costs no write for ``refresh`` (the Security Hub interval, 7 days by
    default): its ``last_seen`` then lags by up to that long, and the run records say which
    (account, region, check) slices each run completed.
    """
    if previous is None or event is not None or previous.finding != finding:
        return True
    return now - parse_iso(previous.last_seen) >= refresh


def _gone(previous: StoredFinding, now: dt.datetime, run_id: str, securityhub: bool) -> Transition | None:
    """A stored finding whose resource no longer appears in its (completed) slice."""
    already = previous.record_state == "ARCHIVED"
    sh_active = previous.sh_record_state == "ACTIVE"
    if already and not (securityhub and sh_active):
        return None
    at = next_update(now, previous.updated_at)
    state = previous
    history = None
    if not already:
        state = replace(
            previous,
            record_state="ARCHIVED",
            status_changed_at=at,
            updated_at=at,
            run_id=run_id,
            archived_at=at,
            resolved_at=at if previous.finding.status is Status.FAILED else previous.resolved_at,
        )
        history = HistoryEvent(
            finding=previous.finding,
            at=at,
            event="ARCHIVED",
            status=previous.finding.status,
            previous_status=previous.finding.status,
            record_state="ARCHIVED",
            run_id=run_id,
        )
    else:
        state = replace(previous, updated_at=at, run_id=run_id)
    if not (securityhub and sh_active):
        return Transition(state=state, previous=previous, event=history)
    asff = _sh_desired(previous.finding, previous.first_seen, previous.last_seen, at, "ARCHIVED")
    # An already-archived item is written again only if Security Hub acknowledges the archive.
    return Transition(
        state=state, previous=previous, event=history, asff=asff, asff_hash=content_hash(asff), write=not already
    )


def plan_lifecycle(
    findings: Iterable[Finding],
    previous: Iterable[StoredFinding],
    scope: Slices,
    now: dt.datetime,
    run_id: str,
    *,
    securityhub: bool,
    refresh: dt.timedelta = DEFAULT_REFRESH,
) -> list[Transition]:
    """Decide, for every finding of this run and every stored finding in ``scope``, what to store and send.

    Args:
        findings: This run's findings (all of them come from completed slices).
        previous: Stored findings read from the table; those outside ``scope`` are never archived.
        scope: The (account, region, check) slices that completed in this run.
        now: This run's time.
        run_id: This run's id, recorded on what it writes.
        securityhub: Whether Security Hub is a sink in this run.
        refresh: Re-send an unchanged, still-active finding when Security Hub's copy is this old.

    Returns:
        One transition per finding id that needs a write or an import, current findings first.
    """
    stored = {item.finding.id: item for item in previous}
    transitions: list[Transition] = []
    seen: set[str] = set()
    for finding in findings:
        if finding.id in seen:
            continue
        seen.add(finding.id)
        transitions.append(_current(finding, stored.get(finding.id), now, run_id, securityhub, refresh))
    # Only a stored finding of a completed slice can be gone: elsewhere absence proves nothing.
    candidates = {finding_id for finding_id, item in stored.items() if item.slice_key in scope}
    for finding_id in sorted(candidates - seen):
        transition = _gone(stored[finding_id], now, run_id, securityhub)
        if transition is not None:
            transitions.append(transition)
    return transitions


def acknowledged(transition: Transition, at: str) -> StoredFinding:
    """The state to store once Security Hub has acknowledged ``transition.asff``."""
    if transition.asff is None:
        return transition.state
    return replace(
        transition.state,
        sh_hash=transition.asff_hash,
        sh_record_state=transition.asff["RecordState"],
        sh_synced_at=at,
    )
