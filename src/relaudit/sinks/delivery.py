"""Publish a run's findings scope by scope to the sinks the request names, and record the run.

For each (account, region) scope, as soon as it is evaluated, and within it one check at a time
(so memory holds one check's findings of one scope, not the run's): read that check's stored
state, plan the lifecycle, then hand the batch to every sink in order: Security Hub (each account
with its own credentials; then the Workflow of suppressed findings, see :mod:`relaudit.sinks.workflow`),
then the findings table (history first, then the current items that changed, recording what
Security Hub acknowledged and the Workflow note it now shows). Everything that still fails after retries is
counted, logged, and makes the run partial; a finding is never recorded as delivered to Security
Hub when it was not, so the next run re-sends it. The run record is written last.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.aws import error_code
from relaudit.sinks.asff import iso
from relaudit.sinks.base import Batch
from relaudit.sinks.dynamodb import FindingsTable, TableSink
from relaudit.sinks.lifecycle import plan_lifecycle
from relaudit.sinks.retry import DeliveryOptions
from relaudit.sinks.securityhub import SecurityHubSink

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from collections.abc import Set as AbstractSet
    from concurrent.futures import Executor

    from relaudit.aws import ClientFactory
    from relaudit.catalog.findings import FindingRecords
    from relaudit.models.finding import Finding, SinkReport
    from relaudit.sinks.base import Sink

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


class Publisher:
    """Publishes one scope at a time to every sink; thread-safe across scopes.

    The table is the lifecycle's memory, so it is written whenever a sink is requested (the
    request model makes ``--sink securityhub`` name a table too).
    """

    def __init__(
        self,
        sinks: Sequence[str],
        table_name: str,
        clients: SinkClients,
        run_id: str,
        options: DeliveryOptions | None = None,
        executor: Executor | None = None,
    ) -> None:
        """Publish to ``sinks`` (``securityhub`` and/or ``dynamodb``) and the table ``table_name``.

        Args:
            sinks: The sinks the request names.
            table_name: The findings table.
            clients: Client factories for the table and for each audited account.
            run_id: This run's id.
            options: Retries, pacing, policy intervals and clocks.
            executor: Runs a batch's item writes concurrently.
        """
        self.options = options or DeliveryOptions()
        self.table = FindingsTable(
            clients.table.client("dynamodb"), table_name, self.options, writer=clients.table.writer("dynamodb")
        )
        self._table_sink = TableSink(self.table, executor)
        self._sinks: list[Sink] = []
        if "securityhub" in sinks:
            self._sinks.append(SecurityHubSink(clients.accounts, self.options))
        self._sinks.append(self._table_sink)
        self._securityhub = "securityhub" in sinks
        self._run_id = run_id
        self._now = self.options.clock()

    def publish_scope(self, account_id: str, region: str, findings: FindingRecords, complete: AbstractSet[str]) -> None:
        """Publish one scope's findings, one check at a time.

        Args:
            account_id: The scope's account.
            region: The scope's region.
            findings: This run's findings in the scope.
            complete: The checks this run read completely in the scope: only there are stored
                findings that no longer appear archived.
        """
        chunks = dict(findings.by_check())
        for check_id in sorted(complete | chunks.keys()):
            chunk = chunks.get(check_id)
            self._publish_check(account_id, region, check_id, list(chunk) if chunk else [], check_id in complete)

    def _publish_check(
        self, account_id: str, region: str, check_id: str, findings: list[Finding], complete: bool
    ) -> None:
        try:
            stored = self.table.load_scope(account_id, region, check_id)
        except (ClientError, BotoCoreError) as exc:
            code = error_code(exc)
            logger.error("cannot read finding state", extra={"scope": f"{account_id}/{region}", "error": code})
            self._table_sink.note(
                f"table {self.table.name}: cannot read the state of {account_id}/{region} ({code}); "
                "its findings were not published to any sink"
            )
            for sink in self._sinks:
                sink.lost(findings, code)
            return
        scope = frozenset({(account_id, region, check_id)}) if complete else frozenset()
        transitions = plan_lifecycle(
            findings,
            stored,
            scope,
            self._now,
            self._run_id,
            securityhub=self._securityhub,
            refresh=self.options.refresh,
        )
        batch = Batch(account_id, region, check_id, findings, transitions, iso(self._now))
        for sink in self._sinks:
            sink.publish(batch)

    def finish(self) -> DeliveryReport:
        """Every sink's report, and every finding that did not reach a sink (logged)."""
        undelivered: dict[str, set[str]] = {}
        codes: dict[str, str] = {}
        for sink in self._sinks:
            for finding_id, code in sink.failed().items():
                undelivered.setdefault(finding_id, set()).add(sink.name)
                codes.setdefault(finding_id, code)
        _log_undelivered(undelivered, codes)
        return DeliveryReport(reports=[sink.report() for sink in self._sinks], undelivered=undelivered)
