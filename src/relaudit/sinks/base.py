"""What a sink is: it publishes one chunk of one scope at a time and says what it did."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from relaudit.sinks.workflow import WorkflowOutcome

if TYPE_CHECKING:
    from collections.abc import Sequence

    from relaudit.models.finding import Finding, SinkReport
    from relaudit.sinks.lifecycle import Transition


@dataclass
class Batch:
    """One check's findings in one (account, region) scope, as the lifecycle planned them.

    Attributes:
        account_id: The scope's account.
        region: The scope's region.
        check_id: The check.
        findings: This run's findings of the check in the scope.
        transitions: What to store and send for each finding id (see :mod:`relaudit.sinks.lifecycle`).
        at: This run's time (ISO 8601), recorded as when Security Hub acknowledged a finding.
        acknowledged: Finding ids Security Hub accepted in this batch; the table, published after
            it, records them as Security Hub's state (so an unacknowledged one is sent again).
        workflow: The Workflow updates Security Hub accepted in this batch (suppressions); the
            table records the note each leaves, so a failed one is tried again next run.
    """

    account_id: str
    region: str
    check_id: str
    findings: Sequence[Finding]
    transitions: list[Transition]
    at: str
    acknowledged: set[str] = field(default_factory=set)
    workflow: WorkflowOutcome = field(default_factory=WorkflowOutcome)


class Sink(Protocol):
    """A destination of findings. Sinks publish in order; the findings table is always last.

    A sink is called from one thread at a time per scope but from several scopes at once, so it
    guards its own counters.
    """

    name: str

    def publish(self, batch: Batch) -> None:
        """Publish one batch (record what failed; never raise for an AWS error)."""
        ...

    def lost(self, findings: Sequence[Finding], code: str) -> None:
        """Count ``findings`` as undelivered with ``code`` (their state could not be read)."""
        ...

    def failed(self) -> dict[str, str]:
        """Every finding id this sink did not deliver, with its error code."""
        ...

    def report(self) -> SinkReport:
        """What this sink did over the whole run."""
        ...


class Tally:
    """What a sink did over a run, counted from several scopes' threads at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failed: dict[str, str] = {}
        self._counts: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._notes: dict[str, None] = {}

    def _lose(self, finding_ids: Sequence[str], code: str) -> None:
        """Count ``finding_ids`` as undelivered: their stored state could not be read (``code``)."""
        with self._lock:
            self._failed.update(dict.fromkeys(finding_ids, f"StateUnavailable:{code}"))
            self._errors["StateUnavailable"] += len(finding_ids)

    def note(self, text: str) -> None:
        """Add a note to the report (once)."""
        with self._lock:
            self._notes[text] = None

    def failed(self) -> dict[str, str]:
        """Every finding id not delivered, with its error code."""
        with self._lock:
            return dict(self._failed)
