"""Import ASFF findings into Security Hub: per account and region, batched, paced, retried, accounted for.

Every finding handed to :func:`import_findings` ends in exactly one of: delivered, failed (with an
error code, after retries), or not_enabled (Security Hub is not enabled for that account and
region, a note). Nothing is dropped silently.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from relaudit.aws import error_code
from relaudit.models.check import Status
from relaudit.models.finding import SinkReport
from relaudit.sinks.asff import asff_problems, encoded_size
from relaudit.sinks.base import Tally
from relaudit.sinks.retry import CallPacer, DeliveryOptions, is_retryable
from relaudit.sinks.workflow import plan_workflow, update_workflow

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from concurrent.futures import Executor

    from relaudit.aws import ClientFactory
    from relaudit.models.finding import Finding
    from relaudit.sinks.base import Batch

logger = logging.getLogger(__name__)

IAM_ACTIONS = frozenset({"securityhub:BatchImportFindings"})
MAX_BATCH_FINDINGS = 100
MAX_REQUEST_BYTES = 6 * 1024 * 1024
_ENVELOPE_BYTES = 64  # '{"Findings": [' ... ']}' plus slack
NOT_ENABLED_CODES = frozenset({"InvalidAccessException", "InvalidAccess"})
# FailedFindings codes a retry cannot fix.
PERMANENT_FINDING_CODES = frozenset({"InvalidInput", "FindingSizeExceeded", "InvalidAsff"})


@dataclass
class ImportOutcome:
    """What happened to each finding handed to Security Hub."""

    delivered: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # id -> error code
    not_enabled: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    calls: int = 0

    def merge(self, other: ImportOutcome) -> None:
        """Add ``other``'s results to this one."""
        self.delivered |= other.delivered
        self.failed.update(other.failed)
        self.not_enabled |= other.not_enabled
        self.notes.extend(other.notes)
        self.calls += other.calls


def batches(
    findings: Iterable[dict[str, Any]], max_count: int = MAX_BATCH_FINDINGS, max_bytes: int = MAX_REQUEST_BYTES
) -> Iterator[list[dict[str, Any]]]:
    """Split findings into BatchImportFindings requests of at most ``max_count`` and ``max_bytes``."""
    batch: list[dict[str, Any]] = []
    size = _ENVELOPE_BYTES
    for finding in findings:
        cost = encoded_size(finding) + 2  # ", " separator
        if batch and (len(batch) >= max_count or size + cost > max_bytes):
            yield batch
            batch, size = [], _ENVELOPE_BYTES
        batch.append(finding)
        size += cost
    if batch:
        yield batch


def botocore_problems(client: Any, findings: list[dict[str, Any]]) -> list[str]:
    """Problems botocore's own model finds in a BatchImportFindings request (empty when valid)."""
    from botocore.validate import ParamValidator

    shape = client.meta.service_model.operation_model("BatchImportFindings").input_shape
    report = ParamValidator().validate({"Findings": findings}, shape)
    return [report.generate_report()] if report.has_errors() else []


class _Group:
    """Imports one (account, region)'s findings through one client, at a paced rate."""

    def __init__(
        self, client: Any, account: str, region: str, options: DeliveryOptions, limiter: CallPacer | None = None
    ) -> None:
        self.client = client
        self.where = f"{account}/{region}"
        self.options = options
        self.limiter = limiter or CallPacer(options.rate_per_second, options.monotonic, options.sleep)
        self.outcome = ImportOutcome()
        self.stopped: str | None = None  # set when the whole group cannot be imported (not enabled, denied)

    def run(self, findings: list[dict[str, Any]]) -> ImportOutcome:
        for batch in batches(findings):
            if self.stopped is not None:
                self._give_up(batch, self.stopped)
            else:
                self._send(batch)
        return self.outcome

    def _give_up(self, batch: list[dict[str, Any]], code: str) -> None:
        ids = [finding["Id"] for finding in batch]
        if code in NOT_ENABLED_CODES:
            self.outcome.not_enabled.update(ids)
            return
        for finding_id in ids:
            self.outcome.failed[finding_id] = code

    def _call(self, batch: list[dict[str, Any]]) -> dict[str, str]:
        """One BatchImportFindings call; returns the failed ids with their codes."""
        self.limiter.acquire()
        self.outcome.calls += 1
        response = self.client.batch_import_findings(Findings=batch)
        return {
            str(failure.get("Id")): str(failure.get("ErrorCode") or "Failed")
            for failure in response.get("FailedFindings", [])
        }

    def _send(self, batch: list[dict[str, Any]]) -> None:
        pending = batch
        attempt = 0
        while pending:
            attempt += 1
            try:
                failed = self._call(pending)
            except ParamValidationError:
                kept = self._split_invalid(pending)
                if len(kept) == len(pending):  # botocore rejects the batch but no single finding: give up on it
                    self._give_up(pending, "InvalidAsff")
                    return
                pending = kept
                continue
            except (ClientError, BotoCoreError) as exc:
                code = error_code(exc)
                if code in NOT_ENABLED_CODES:
                    self.stopped = code
                    self.outcome.notes.append(
                        f"Security Hub is not enabled in {self.where} ({code}): "
                        "its findings were not imported there; they are in the other sinks"
                    )
                    logger.warning("security hub not enabled", extra={"where": self.where, "error": code})
                    self._give_up(pending, code)
                    return
                retryable = is_retryable(exc, code)
                if retryable and attempt < self.options.max_attempts:
                    logger.info("retrying batch", extra={"where": self.where, "error": code, "attempt": attempt})
                    self.options.sleep(self.options.backoff(attempt))
                    continue
                if not retryable:
                    self.stopped = code
                    self.outcome.notes.append(f"Security Hub import failed in {self.where}: {code}")
                logger.error(
                    "batch import failed", extra={"where": self.where, "error": code, "findings": len(pending)}
                )
                self._give_up(pending, code)
                return
            delivered = [f["Id"] for f in pending if f["Id"] not in failed]
            self.outcome.delivered.update(delivered)
            permanent = {fid: code for fid, code in failed.items() if code in PERMANENT_FINDING_CODES}
            self.outcome.failed.update(permanent)
            pending = [f for f in pending if f["Id"] in failed and f["Id"] not in permanent]
            if pending:
                if attempt >= self.options.max_attempts:
                    for finding in pending:
                        self.outcome.failed[finding["Id"]] = failed[finding["Id"]]
                    return
                self.options.sleep(self.options.backoff(attempt))

    def _split_invalid(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """botocore rejected the batch: report the findings it rejects, keep the others."""
        keep = []
        for finding in batch:
            problems = botocore_problems(self.client, [finding])
            if problems:
                logger.error("invalid ASFF", extra={"finding_id": finding["Id"], "problems": problems})
                self.outcome.failed[finding["Id"]] = "InvalidAsff"
            else:
                keep.append(finding)
        return keep


def _group_by_scope(findings: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        groups[(finding["AwsAccountId"], finding["Region"])].append(finding)
    return groups


def import_findings(
    findings: Iterable[dict[str, Any]],
    accounts: Mapping[str, ClientFactory],
    options: DeliveryOptions | None = None,
    executor: Executor | None = None,
    pacers: Mapping[tuple[str, str], CallPacer] | None = None,
) -> ImportOutcome:
    """Import ASFF findings, each with its own account's credentials into its own region.

    Args:
        findings: ASFF findings (see :func:`relaudit.sinks.asff.to_asff`).
        accounts: Account id -> client factory for that account (BatchImportFindings must come
            from the account a finding belongs to; the organization mode passes one per member).
        options: Retries, pacing and clocks.
        executor: Runs (account, region) groups concurrently; each group is paced on its own.
        pacers: The pacer of each (account, region), when the caller imports one scope in several
            chunks (the rate holds across them); a new one per group otherwise.

    Returns:
        Every finding's fate: delivered, failed (code) or not_enabled.
    """
    options = options or DeliveryOptions()
    outcome = ImportOutcome()
    valid: list[dict[str, Any]] = []
    for finding in findings:
        problems = asff_problems(finding)
        if problems:
            logger.error("invalid ASFF, not sent", extra={"finding_id": finding.get("Id"), "problems": problems[:5]})
            outcome.failed[str(finding.get("Id"))] = "InvalidAsff"
        else:
            valid.append(finding)

    def one(scope: tuple[str, str], group: list[dict[str, Any]]) -> ImportOutcome:
        account, region = scope
        factory = accounts.get(account)
        if factory is None:
            lost = ImportOutcome(failed={f["Id"]: "NoCredentialsForAccount" for f in group})
            lost.notes.append(f"no credentials for account {account}: its findings were not imported")
            return lost
        limiter = pacers.get(scope) if pacers is not None else None
        return _Group(factory.writer("securityhub", region), account, region, options, limiter).run(group)

    groups = _group_by_scope(valid)
    if executor is None:
        results = [one(scope, group) for scope, group in groups.items()]
    else:
        results = list(executor.map(one, groups.keys(), groups.values()))
    for result in results:
        outcome.merge(result)
    return outcome


class SecurityHubSink(Tally):
    """The Security Hub sink: imports each batch's ASFF into its account and region, then sets the
    Workflow of its suppressed findings (:mod:`relaudit.sinks.workflow`); one pacer per scope and API."""

    name = "securityhub"

    def __init__(self, accounts: Mapping[str, ClientFactory], options: DeliveryOptions) -> None:
        """Import with ``accounts``' credentials (account id -> factory), paced and retried per ``options``."""
        super().__init__()
        self._accounts = accounts
        self._options = options
        self._pacers: dict[tuple[str, str, str], CallPacer] = {}

    def _pacer(self, scope: tuple[str, str], api: str) -> CallPacer:
        key = (*scope, api)
        with self._lock:
            if key not in self._pacers:
                options = self._options
                self._pacers[key] = CallPacer(options.rate_per_second, options.monotonic, options.sleep)
            return self._pacers[key]

    def publish(self, batch: Batch) -> None:
        """Import what the lifecycle says to send, then set the Workflow of what is suppressed; mark
        what Security Hub accepted (and the Workflow notes it now shows) on ``batch``."""
        sent = {t.finding_id: t.asff for t in batch.transitions if t.asff is not None}
        scope = (batch.account_id, batch.region)
        outcome = ImportOutcome()
        if sent:
            pacers = {scope: self._pacer(scope, "import")}
            outcome = import_findings(sent.values(), self._accounts, self._options, pacers=pacers)
        delivered = outcome.delivered & sent.keys()
        batch.acknowledged |= delivered
        # After the import, which creates the findings BatchUpdateFindings then finds.
        updates = plan_workflow(batch.transitions, delivered)
        if updates:
            pacers = {scope: self._pacer(scope, "workflow")}
            batch.workflow = update_workflow(updates, self._accounts, self._options, pacers=pacers)
        workflow = batch.workflow
        statuses = Counter(f.status for f in batch.findings)
        with self._lock:
            self._counts.update(
                delivered=len(delivered),
                archived=sum(1 for fid in delivered if sent[fid]["RecordState"] == "ARCHIVED"),
                unchanged=sum(1 for t in batch.transitions if t.unchanged),
                not_applicable=statuses[Status.NOT_APPLICABLE],
                unknown=statuses[Status.UNKNOWN],
                not_enabled=len(outcome.not_enabled),
                calls=outcome.calls,  # BatchImportFindings only (the field says so)
                workflow=len(workflow.done),
                workflow_failed=len(workflow.failed),
            )
            failed = {**workflow.failed, **outcome.failed}
            self._failed.update(failed)
            self._errors.update(failed.values())
            self._notes.update(dict.fromkeys([*outcome.notes, *workflow.notes]))

    def lost(self, findings: Sequence[Finding], code: str) -> None:
        """Findings whose state could not be read: those Security Hub would hold are undelivered."""
        self._lose([f.id for f in findings if f.status not in (Status.NOT_APPLICABLE, Status.UNKNOWN)], code)

    def report(self) -> SinkReport:
        """What Security Hub got over the whole run."""
        with self._lock:
            return SinkReport(
                sink="securityhub",
                **{key: self._counts[key] for key in _REPORTED},
                undelivered=len(self._failed),
                errors=dict(self._errors),
                notes=list(self._notes),
            )


_REPORTED = (
    "delivered",
    "archived",
    "unchanged",
    "not_applicable",
    "unknown",
    "not_enabled",
    "calls",
    "workflow",
    "workflow_failed",
)
