"""Publish a run's findings to the sinks the request names, and record the run.

Order: read the previous state of the completed units from the table, plan the lifecycle, import
into Security Hub (each account with its own credentials), then write the table: history first,
then current items (recording what Security Hub acknowledged), then the run record. Everything
that still fails after retries is counted in the summary, logged, and makes the run partial; a
finding is never recorded as delivered to Security Hub when it was not, so the next run re-sends it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.models.check import Status
from relaudit.models.finding import SinkReport
from relaudit.sinks.asff import iso, parse_iso
from relaudit.sinks.dynamodb import FindingsTable
from relaudit.sinks.lifecycle import StoredFinding, Transition, acknowledged, plan_lifecycle
from relaudit.sinks.retry import DeliveryOptions
from relaudit.sinks.securityhub import ImportOutcome, import_findings
from relaudit.sinks.workflow import WorkflowOutcome, plan_workflow, update_workflow

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from concurrent.futures import Executor

    from relaudit.aws import ClientFactory
    from relaudit.models.finding import AuditResult, Summary

logger = logging.getLogger(__name__)

_LOGGED_IDS = 100  # undelivered findings logged one by one; past this, only the counts


@dataclass(frozen=True)
class SinkClients:
    """Where the sinks write: the table's account, and each audited account's own credentials.

    Attributes:
        table: Client factory for the findings table (the auditor's account; its home region).
        accounts: Account id -> client factory used to import that account's findings into its
            Security Hub (BatchImportFindings must come from the finding's account).
    """

    table: ClientFactory
    accounts: Mapping[str, ClientFactory] = field(default_factory=dict)


@dataclass
class DeliveryReport:
    """The outcome of publishing one run."""

    reports: list[SinkReport]
    undelivered: dict[str, set[str]]  # finding id -> sinks it did not reach
    run_recorded: bool = True


def _scope_keys(result: AuditResult) -> set[tuple[str, str]]:
    keys = {(account, region) for account, region, _ in result.completed_scope}
    keys.update((f.account_id, f.region) for f in result.findings)
    return keys


def _findings_built(result: AuditResult) -> AuditResult:
    """``result`` with its findings in a list: a run's are built as read, and the lifecycle reads them several times."""
    if isinstance(result.findings, list):
        return result
    return result.model_copy(update={"findings": list(result.findings)})


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


def _load_state(
    table: FindingsTable, keys: set[tuple[str, str]], executor: Executor | None
) -> tuple[list[StoredFinding], dict[tuple[str, str], str]]:
    """Previous findings of every (account, region); the scopes that could not be read, with their error."""

    def load(key: tuple[str, str]) -> tuple[tuple[str, str], list[StoredFinding] | str]:
        try:
            return key, table.load_scope(*key)
        except (ClientError, BotoCoreError) as exc:
            logger.error("cannot read finding state", extra={"scope": "/".join(key), "error": _error_code(exc)})
            return key, _error_code(exc)

    ordered = sorted(keys)
    results = list(executor.map(load, ordered)) if executor else [load(key) for key in ordered]
    stored: list[StoredFinding] = []
    failed: dict[tuple[str, str], str] = {}
    for key, value in results:
        if isinstance(value, str):
            failed[key] = value
        else:
            stored.extend(value)
    return stored, failed


def _securityhub_report(
    transitions: list[Transition], outcome: ImportOutcome, result: AuditResult, state_lost: int
) -> SinkReport:
    sent = {t.finding_id: t.asff for t in transitions if t.asff is not None}
    errors = Counter(outcome.failed.values())
    if state_lost:
        errors["StateUnavailable"] += state_lost
    delivered = outcome.delivered & sent.keys()
    archived = sum(1 for fid in delivered if sent[fid]["RecordState"] == "ARCHIVED")
    return SinkReport(
        sink="securityhub",
        delivered=len(delivered),
        archived=archived,
        unchanged=sum(1 for t in transitions if t.unchanged),
        not_applicable=sum(1 for f in result.findings if f.status is Status.NOT_APPLICABLE),
        unknown=sum(1 for f in result.findings if f.status is Status.UNKNOWN),
        not_enabled=len(outcome.not_enabled),
        undelivered=len(outcome.failed) + state_lost,
        errors=dict(errors),
        notes=list(dict.fromkeys(outcome.notes)),
    )


def _workflow(
    transitions: list[Transition],
    delivered: set[str],
    clients: SinkClients,
    options: DeliveryOptions,
    executor: Executor | None,
    report: SinkReport,
) -> WorkflowOutcome:
    """Suppressions (relaudit.policy) as Security Hub's Workflow: after the import, which creates the findings."""
    workflow = update_workflow(plan_workflow(transitions, delivered), clients.accounts, options, executor)
    report.workflow, report.workflow_failed = len(workflow.done), len(workflow.failed)
    report.notes.extend(note for note in dict.fromkeys(workflow.notes) if note not in report.notes)
    return workflow


def _log_undelivered(undelivered: dict[str, set[str]], codes: dict[str, str]) -> None:
    for finding_id in sorted(undelivered)[:_LOGGED_IDS]:
        logger.warning(
            "finding not delivered",
            extra={"finding_id": finding_id, "sinks": sorted(undelivered[finding_id]), "error": codes.get(finding_id)},
        )
    if undelivered:
        logger.error(
            "undelivered findings",
            extra={"count": len(undelivered), "by_error": dict(Counter(codes[f] for f in undelivered if f in codes))},
        )


def deliver(
    result: AuditResult,
    *,
    sinks: list[str],
    table_name: str,
    clients: SinkClients,
    run_id: str,
    options: DeliveryOptions | None = None,
    executor: Executor | None = None,
) -> DeliveryReport:
    """Publish ``result``'s findings to Security Hub and/or the table, reconciling the lifecycle.

    The table is the lifecycle's memory, so it is written whenever a sink is requested (the
    request model makes ``--sink securityhub`` name a table too).

    Args:
        result: The run's findings, gaps and completed units.
        sinks: ``securityhub`` and/or ``dynamodb``.
        table_name: The findings table.
        clients: Client factories for the table and for each audited account.
        run_id: This run's id.
        options: Retries, pacing, policy intervals and clocks.
        executor: Runs independent calls concurrently (state reads, imports per region, item writes).

    Returns:
        Per-sink reports and every finding that did not reach a sink.
    """
    options = options or DeliveryOptions()
    result = _findings_built(result)
    securityhub = "securityhub" in sinks
    table = FindingsTable(clients.table.client("dynamodb"), table_name, options)
    now = options.clock()
    undelivered: dict[str, set[str]] = {}
    codes: dict[str, str] = {}
    ddb_notes: list[str] = []
    ddb_errors: Counter[str] = Counter()

    def lose(finding_id: str, sink: str, code: str) -> None:
        undelivered.setdefault(finding_id, set()).add(sink)
        codes.setdefault(finding_id, code)

    stored, unreadable = _load_state(table, _scope_keys(result), executor)
    for (account, region), code in sorted(unreadable.items()):
        ddb_notes.append(
            f"table {table_name}: cannot read the state of {account}/{region} ({code}); "
            "its findings were not published to any sink"
        )
    findings = [f for f in result.findings if (f.account_id, f.region) not in unreadable]
    for finding in result.findings:
        if (finding.account_id, finding.region) in unreadable:
            code = f"StateUnavailable:{unreadable[(finding.account_id, finding.region)]}"
            if securityhub and finding.status not in (Status.NOT_APPLICABLE, Status.UNKNOWN):
                lose(finding.id, "securityhub", code)
            lose(finding.id, "dynamodb", code)
            ddb_errors["StateUnavailable"] += 1
    scope = frozenset(u for u in result.completed_scope if (u[0], u[1]) not in unreadable)
    transitions = plan_lifecycle(findings, stored, scope, now, run_id, securityhub=securityhub, refresh=options.refresh)

    reports: list[SinkReport] = []
    outcome = ImportOutcome()
    workflow = WorkflowOutcome()
    if securityhub:
        asffs = [t.asff for t in transitions if t.asff is not None]
        outcome = import_findings(asffs, clients.accounts, options, executor)
        state_lost = sum(1 for fid, lost_in in undelivered.items() if "securityhub" in lost_in)
        reports.append(_securityhub_report(transitions, outcome, result, state_lost))
        workflow = _workflow(transitions, outcome.delivered, clients, options, executor, reports[-1])
        for finding_id, code in {**workflow.failed, **outcome.failed}.items():
            lose(finding_id, "securityhub", code)

    acknowledged_at = iso(now)
    to_store: list[StoredFinding] = []
    for t in transitions:
        if t.asff is not None and t.finding_id in outcome.delivered:
            to_store.append(acknowledged(t, acknowledged_at))
        elif t.write:
            to_store.append(t.state)
    to_store = workflow.stored(to_store)
    events = [t.event for t in transitions if t.event is not None]
    history = table.write_history(events)
    writes = table.put_findings(to_store, executor)
    for finding_id, code in {**history.failed, **writes.failed}.items():
        lose(finding_id, "dynamodb", code)
        ddb_errors[code] += 1
    archived_now = {t.finding_id for t in transitions if t.event is not None and t.event.event == "ARCHIVED"}
    failed_ddb = history.failed.keys() | writes.failed.keys()
    reports.append(
        SinkReport(
            sink="dynamodb",
            delivered=len(writes.written),
            archived=len((archived_now & writes.written) - failed_ddb),
            history=len(history.written),
            unknown=sum(1 for f in result.findings if f.status is Status.UNKNOWN),
            superseded=len(writes.superseded),
            undelivered=len(failed_ddb) + sum(1 for f in result.findings if (f.account_id, f.region) in unreadable),
            errors=dict(ddb_errors),
            notes=ddb_notes,
        )
    )
    _log_undelivered(undelivered, codes)
    return DeliveryReport(reports=reports, undelivered=undelivered)


def finalize(summary: Summary, report: DeliveryReport, elapsed: float) -> Summary:
    """The summary with delivery counted in: undelivered findings make the run partial."""
    started = parse_iso(summary.started_at)
    partial = summary.result == "partial" or bool(report.undelivered) or not report.run_recorded
    return summary.model_copy(
        update={
            "result": "partial" if partial else "complete",
            "undelivered_findings": len(report.undelivered),
            "sinks": report.reports,
            "finished_at": (started + dt.timedelta(seconds=elapsed)).isoformat(timespec="seconds"),
            "duration_seconds": round(elapsed, 3),
        }
    )


def run_record(result: AuditResult, summary: Summary, check_ids: list[str]) -> dict[str, Any]:
    """The run record stored in the table: id, start and end, scope, counts, gaps, outcome."""
    return {
        "run_id": summary.run_id,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "result": summary.result,
        "accounts": summary.accounts,
        "regions": summary.regions,
        "checks": check_ids,
        "completed_units": len(result.completed_scope),
        "resources": summary.resources,
        "findings": summary.findings,
        "failed_by_severity": summary.failed_by_severity,
        "suppressed": summary.suppressed,  # relaudit.policy
        "coverage_gaps": [gap.model_dump() for gap in result.coverage_gaps],
        "undelivered_findings": summary.undelivered_findings,
        "sinks": [report.model_dump() for report in summary.sinks],
        "duration_seconds": summary.duration_seconds,
    }


def publish(
    result: AuditResult,
    *,
    sinks: list[str],
    table_name: str,
    clients: SinkClients,
    check_ids: list[str],
    elapsed: Callable[[], float],
    options: DeliveryOptions | None = None,
    executor: Executor | None = None,
) -> AuditResult:
    """Deliver ``result`` to its sinks, record the run in the table, and return the updated result.

    Args:
        result: The evaluated run (its summary carries the run id).
        sinks: ``securityhub`` and/or ``dynamodb``.
        table_name: The findings table.
        clients: Client factories for the table and for each audited account.
        check_ids: The checks this run evaluated (recorded as its scope).
        elapsed: Seconds since the run started (the run's end is after delivery).
        options: Retries, pacing, policy intervals and clocks.
        executor: Runs independent calls concurrently.
    """
    options = options or DeliveryOptions()
    run_id = result.summary.run_id or "unknown"
    report = deliver(
        result,
        sinks=sinks,
        table_name=table_name,
        clients=clients,
        run_id=run_id,
        options=options,
        executor=executor,
    )
    summary = finalize(result.summary, report, elapsed())
    table = FindingsTable(clients.table.client("dynamodb"), table_name, options)
    try:
        table.put_run(run_record(result, summary, check_ids))
    except (ClientError, BotoCoreError, TypeError, ValueError) as exc:
        code = _error_code(exc)
        logger.error("run record not written", extra={"run_id": run_id, "error": code})
        report.run_recorded = False
        dynamodb = next(r for r in report.reports if r.sink == "dynamodb")
        dynamodb.notes.append(f"the run record {run_id} was not written to {table_name} ({code})")
        summary = finalize(result.summary, report, elapsed())
    return result.model_copy(update={"summary": summary})
