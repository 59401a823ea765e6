"""Security Hub's Workflow for suppressed findings: SUPPRESSED with the reason in the note, NEW again
when the suppression is removed or expires (BatchUpdateFindings).

BatchImportFindings cannot change an existing finding's Workflow or Note (they belong to the
customer's side of the finding), so a suppression is one more call, made after the import.
relaudit only ever touches the Workflow of a finding it suppressed itself: the table keeps the note
it last set (``StoredFinding.sh_workflow``), and only a finding with one is set back to NEW, so a
status an analyst set by hand is left alone.

The plan is pure (:func:`plan_workflow`); :func:`update_workflow` makes the calls, grouped per
(account, region, status, note) in requests of at most 100 findings, paced and retried like the
imports. A finding whose update still fails is reported and retried on the next run (its table
item keeps the previous note).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.aws import error_code
from relaudit.sinks.asff import clip, partition_of, product_arn
from relaudit.sinks.retry import CallPacer, DeliveryOptions, is_retryable

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from concurrent.futures import Executor

    from relaudit.aws import ClientFactory
    from relaudit.models.finding import Finding
    from relaudit.sinks.lifecycle import StoredFinding, Transition

logger = logging.getLogger(__name__)

IAM_ACTIONS = frozenset({"securityhub:BatchUpdateFindings"})
MAX_IDENTIFIERS = 100  # BatchUpdateFindings' FindingIdentifiers limit
NOTE_MAX = 512  # Note.Text
UPDATED_BY = "relaudit"
UNSUPPRESSED_NOTE = "relaudit: the suppression was removed or has expired; the finding is open again."
WorkflowStatus = Literal["SUPPRESSED", "NEW"]


@dataclass(frozen=True)
class WorkflowUpdate:
    """One finding's Workflow change in Security Hub."""

    finding_id: str
    product_arn: str
    account_id: str
    region: str
    status: WorkflowStatus
    note: str

    @property
    def stored(self) -> str | None:
        """What the table keeps once Security Hub accepted it: the note of a suppression, or nothing."""
        return self.note if self.status == "SUPPRESSED" else None


def suppression_note(finding: Finding) -> str | None:
    """The note Security Hub shows for a suppressed finding (None when it is not suppressed)."""
    rule = finding.suppression
    if rule is None:
        return None
    until = f" until {rule.expires.isoformat()}" if rule.expires else ""
    return clip(f"{rule.reason} (suppressed by relaudit, source: {rule.source}{until})", NOTE_MAX)


def _in_security_hub(transition: Transition, delivered: set[str]) -> bool:
    """Whether Security Hub now holds this finding active (imported now, or acknowledged before)."""
    if transition.asff is not None:
        return transition.finding_id in delivered and transition.asff["RecordState"] == "ACTIVE"
    return transition.state.sh_record_state == "ACTIVE"


def plan_workflow(transitions: Iterable[Transition], delivered: set[str]) -> list[WorkflowUpdate]:
    """The Workflow changes this run needs (pure).

    A finding Security Hub holds active is set SUPPRESSED when it is suppressed and Security Hub
    does not already show that note; one relaudit suppressed before that is no longer suppressed
    goes back to NEW.

    Args:
        transitions: The run's lifecycle (each carries the stored state and what was sent).
        delivered: Ids Security Hub accepted in this run's import.
    """
    updates: list[WorkflowUpdate] = []
    for transition in transitions:
        state = transition.state
        if state.record_state != "ACTIVE" or not _in_security_hub(transition, delivered):
            continue
        finding = state.finding
        wanted = suppression_note(finding)
        if wanted == state.sh_workflow:
            continue
        arn = product_arn(partition_of(finding.resource_arn), finding.region, finding.account_id)
        status: WorkflowStatus = "SUPPRESSED" if wanted is not None else "NEW"
        note = wanted if wanted is not None else UNSUPPRESSED_NOTE
        updates.append(WorkflowUpdate(finding.id, arn, finding.account_id, finding.region, status, note))
    return updates


@dataclass
class WorkflowOutcome:
    """What Security Hub did with each update: done (with what to store) or failed (error code)."""

    done: dict[str, str | None] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    calls: int = 0

    def merge(self, other: WorkflowOutcome) -> None:
        """Add ``other``'s results to this one."""
        self.done.update(other.done)
        self.failed.update(other.failed)
        self.notes.extend(other.notes)
        self.calls += other.calls

    def stored(self, states: Sequence[StoredFinding]) -> list[StoredFinding]:
        """``states`` with the note each accepted update leaves in Security Hub recorded."""
        return [replace(s, sh_workflow=self.done[s.finding.id]) if s.finding.id in self.done else s for s in states]


def _send(client: Any, batch: list[WorkflowUpdate], pacer: CallPacer, options: DeliveryOptions) -> WorkflowOutcome:
    """One group's request, retrying what Security Hub leaves unprocessed (a just-imported finding
    may not be visible yet) and retryable errors, up to ``options.max_attempts``."""
    outcome = WorkflowOutcome()
    pending = {update.finding_id: update for update in batch}
    first = batch[0]
    attempt = 0
    while pending:
        attempt += 1
        pacer.acquire()
        outcome.calls += 1
        try:
            response = client.batch_update_findings(
                FindingIdentifiers=[{"Id": u.finding_id, "ProductArn": u.product_arn} for u in pending.values()],
                Workflow={"Status": first.status},
                Note={"Text": first.note, "UpdatedBy": UPDATED_BY},
            )
        except (ClientError, BotoCoreError) as exc:
            code = error_code(exc)
            if is_retryable(exc, code) and attempt < options.max_attempts:
                options.sleep(options.backoff(attempt))
                continue
            logger.error("workflow update failed", extra={"error": code, "findings": len(pending)})
            outcome.failed.update(dict.fromkeys(pending, code))
            outcome.notes.append(f"Security Hub workflow update failed in {first.account_id}/{first.region}: {code}")
            return outcome
        unprocessed = {
            str(item.get("FindingIdentifier", {}).get("Id")): str(item.get("ErrorCode") or "Unprocessed")
            for item in response.get("UnprocessedFindings", [])
        }
        for finding_id, update in list(pending.items()):
            if finding_id not in unprocessed:
                outcome.done[finding_id] = update.stored
                del pending[finding_id]
        if pending and attempt >= options.max_attempts:
            outcome.failed.update({finding_id: unprocessed[finding_id] for finding_id in pending})
            return outcome
        if pending:
            options.sleep(options.backoff(attempt))
    return outcome


def update_workflow(
    updates: Sequence[WorkflowUpdate],
    accounts: Mapping[str, ClientFactory],
    options: DeliveryOptions | None = None,
    executor: Executor | None = None,
    pacers: Mapping[tuple[str, str], CallPacer] | None = None,
) -> WorkflowOutcome:
    """Apply ``updates`` with BatchUpdateFindings, each account with its own credentials in its own region.

    ``pacers`` gives the pacer of each (account, region) when the caller updates one scope in
    several chunks (the rate holds across them); a new one per group otherwise.

    Returns:
        Every update's fate: done (the note to store, None after NEW) or failed (error code).
    """
    options = options or DeliveryOptions()
    groups: dict[tuple[str, str], dict[tuple[str, str], list[WorkflowUpdate]]] = defaultdict(lambda: defaultdict(list))
    for update in updates:
        groups[(update.account_id, update.region)][(update.status, update.note)].append(update)

    def one(scope: tuple[str, str], by_note: dict[tuple[str, str], list[WorkflowUpdate]]) -> WorkflowOutcome:
        account, region = scope
        outcome = WorkflowOutcome()
        factory = accounts.get(account)
        if factory is None:
            outcome.failed.update({u.finding_id: "NoCredentialsForAccount" for g in by_note.values() for u in g})
            return outcome
        client = factory.writer("securityhub", region)
        pacer = pacers.get(scope) if pacers is not None else None
        pacer = pacer or CallPacer(options.rate_per_second, options.monotonic, options.sleep)
        for group in by_note.values():
            for start in range(0, len(group), MAX_IDENTIFIERS):
                outcome.merge(_send(client, group[start : start + MAX_IDENTIFIERS], pacer, options))
        return outcome

    results = (
        [one(scope, by_note) for scope, by_note in groups.items()]
        if executor is None
        else list(executor.map(one, groups.keys(), groups.values()))
    )
    total = WorkflowOutcome()
    for result in results:
        total.merge(result)
    return total
