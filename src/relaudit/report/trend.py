"""The trend: the runs recorded in the findings table, what each opened and resolved, and the mean
time to resolve per check.

Read from the table only (Query, on the by-scope index for run records and the by-status index for
each run's history events): run records are what :mod:`relaudit.sinks.record` builds (a run's and
the organization run's) and :meth:`relaudit.sinks.dynamodb.FindingsTable.put_run` writes;
:func:`read_runs` is the one place that reads them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from relaudit.report.grouping import FAILED, PASSED, status_rank
from relaudit.sinks import table_schema
from relaudit.sinks.asff import iso, parse_iso
from relaudit.sinks.dynamodb import FindingsTable, deserialize, serialize

if TYPE_CHECKING:
    from collections.abc import Callable

IAM_ACTIONS = frozenset({"dynamodb:Query"})
DEFAULT_SINCE = "30d"
_SINCE = re.compile(r"^(\d{1,5})([hdw])\Z")
_UNIT = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}
OPENING_EVENTS = frozenset({"NEW", "STATUS_CHANGED", "REAPPEARED"})


def parse_since(text: str) -> dt.timedelta:
    """``30d``, ``12h`` or ``2w`` as a time span.

    Raises:
        ValueError: Not a number followed by h, d or w (or zero).
    """
    match = _SINCE.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected a span such as 30d, 12h or 2w, got {text!r:.40}")
    return int(match.group(1)) * _UNIT[match.group(2)]


def read_runs(client: Any, table: str, since: dt.datetime) -> list[dict[str, Any]]:
    """Every run record recorded at or after ``since``, oldest first (plain items).

    Relies on: key ``gsi1pk = "RUNS"``, ``gsi1sk = "<recorded at>#<run id>"`` (by-scope index), and in
    each record ``run_id``, ``started_at`` and ``findings`` (counts by status); ``result`` if present.

    Raises:
        ClientError, BotoCoreError: The table cannot be read.
    """
    pages = client.get_paginator("query").paginate(
        TableName=table,
        IndexName=table_schema.GSI_BY_SCOPE,
        KeyConditionExpression="gsi1pk = :p AND gsi1sk >= :s",
        ExpressionAttributeValues=serialize({":p": "RUNS", ":s": iso(since)}),
        ScanIndexForward=True,
    )
    return [deserialize(item) for page in pages for item in page.get("Items", [])]


@dataclass(frozen=True)
class RunPoint:
    """One run in the trend."""

    run_id: str
    started_at: str
    result: str | None
    findings: dict[str, int]
    opened: int
    resolved: int


@dataclass(frozen=True)
class CheckResolution:
    """How long one check's failures took to be resolved, over the findings resolved in the window."""

    check_id: str
    resolved: int
    mean_seconds: float


@dataclass
class Trend:
    """Runs oldest first, and the mean time to resolve per check (slowest first)."""

    table: str
    since: str
    runs: list[RunPoint] = field(default_factory=list)
    time_to_resolve: list[CheckResolution] = field(default_factory=list)

    @property
    def statuses(self) -> list[str]:
        """Every status any run counted, in report order (FAILED first)."""
        seen = {status for run in self.runs for status in run.findings}
        return sorted(seen, key=lambda s: (status_rank(s), s))

    def as_json(self) -> dict[str, Any]:
        """The JSON output: ``{"table", "since", "runs": [...], "time_to_resolve": [...]}``."""
        return asdict(self)


def is_resolution(event: dict[str, Any]) -> bool:
    """A FAILED finding that now passes (gone resources and checks that stopped applying are not fixes)."""
    return event.get("previous_status") == FAILED and event.get("status") == PASSED


def is_opening(event: dict[str, Any]) -> bool:
    """A finding that starts failing: new and failing, turned failing, or back and failing."""
    return event.get("event") in OPENING_EVENTS and event.get("status") == FAILED


def _failed_since(history: list[dict[str, Any]], resolved_at: str) -> str | None:
    """When the failure that ended at ``resolved_at`` began: the latest opening event before it."""
    openings = [e["at"] for e in history if is_opening(e) and str(e.get("at", "")) < resolved_at]
    return max(openings) if openings else None


def load_trend(client: Any, table: str, since: dt.timedelta, clock: Callable[[], dt.datetime] | None = None) -> Trend:
    """The trend of the last ``since`` from ``table``.

    Each run's opened and resolved counts come from its history events; the time to resolve of a
    resolved finding runs from the event that opened its failure (its history, kept 365 days) to
    the run that saw it pass. A resolution whose opening has expired from the history is counted
    in the run but not in the mean.

    Raises:
        ClientError, BotoCoreError: The table cannot be read.
    """
    start = (clock or (lambda: dt.datetime.now(dt.UTC)))() - since
    findings_table = FindingsTable(client, table)
    trend = Trend(table=table, since=iso(start))
    durations: defaultdict[str, list[float]] = defaultdict(list)
    for record in read_runs(client, table, start):
        run_id = str(record["run_id"])
        changes = findings_table.changes(run_id)
        resolutions = [event for event in changes if is_resolution(event)]
        trend.runs.append(
            RunPoint(
                run_id=run_id,
                started_at=str(record.get("started_at", "")),
                result=record.get("result"),
                findings={str(k): int(v) for k, v in (record.get("findings") or {}).items()},
                opened=sum(1 for event in changes if is_opening(event)),
                resolved=len(resolutions),
            )
        )
        for event in resolutions:
            opened_at = _failed_since(findings_table.finding_history(str(event["finding_id"])), str(event["at"]))
            if opened_at is not None:
                seconds = (parse_iso(str(event["at"])) - parse_iso(opened_at)).total_seconds()
                durations[str(event["check_id"])].append(seconds)
    trend.time_to_resolve = sorted(
        (
            CheckResolution(check, len(values), round(sum(values) / len(values), 3))
            for check, values in durations.items()
        ),
        key=lambda c: (-c.mean_seconds, c.check_id),
    )
    return trend


def human_duration(seconds: float) -> str:
    """``90`` -> ``1.5 min``; ``7200`` -> ``2.0 h``; ``259200`` -> ``3.0 d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"
