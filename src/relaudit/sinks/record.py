"""The run records kept in the findings table: the one module that says what a record holds.

Three records, all plain dicts of the fields :mod:`relaudit.report.trend` and the fan-out's last
step read:

- a run's record (:func:`run_record`): one audit (the CLI's, a scheduled Lambda's); written by
  :func:`record_run` (pk ``RUN#<run id>``, gsi1 ``RUNS``) once the run's scopes are published.
- an organization item's record (:func:`item_record`): one (account, region) of an org run, at
  :func:`item_key`; the org run's last step sums them (:class:`ItemTotals`).
- the organization run's record (:func:`org_run_record`): those sums, written as a run's record is.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.aws import error_code
from relaudit.models.check import Status
from relaudit.models.coverage import CoverageGap
from relaudit.sinks.asff import iso, parse_iso

if TYPE_CHECKING:
    import datetime as dt

    from relaudit.models.finding import AuditResult
    from relaudit.models.org import FinalizeStep, ItemStep
    from relaudit.sinks.dynamodb import FindingsTable

logger = logging.getLogger(__name__)

MAX_ITEM_GAPS = 50  # gaps kept in one item's record (its count is exact)
MAX_RUN_GAPS = 200  # gaps kept in the org run record (counts are exact); DynamoDB items stop at 400 KB
_SINK_COUNTS = ("delivered", "archived", "unchanged", "not_applicable", "not_enabled", "history", "superseded")


def run_record(result: AuditResult, check_ids: list[str]) -> dict[str, Any]:
    """A run's record: id, start and end, scope, counts, gaps, outcome."""
    summary = result.summary
    return {
        "run_id": summary.run_id,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "result": summary.result,
        "accounts": summary.accounts,
        "regions": summary.regions,
        "checks": check_ids,
        "completed_units": len(result.completed_slices),  # the stored field keeps its name (table items unchanged)
        "resources": summary.resources,
        "findings": summary.findings,
        "failed_by_severity": summary.failed_by_severity,
        "suppressed": summary.suppressed,  # relaudit.policy
        "coverage_gaps": [gap.model_dump() for gap in result.coverage_gaps],
        "undelivered_findings": summary.undelivered_findings,
        "sinks": [report.model_dump() for report in summary.sinks],
        "duration_seconds": summary.duration_seconds,
    }


def record_run(result: AuditResult, table: FindingsTable, check_ids: list[str]) -> AuditResult:
    """Write the run's record in ``table``, last; if it cannot be written, the run is partial and
    the table's report says so (the findings were published already)."""
    summary = result.summary
    record = run_record(result, check_ids)
    try:
        table.put_run(record)
    except (ClientError, BotoCoreError, TypeError, ValueError) as exc:
        code = error_code(exc)
        logger.error("run record not written", extra={"run_id": summary.run_id, "error": code})
    else:
        return result
    reports = [
        r.model_copy(update={"notes": [*r.notes, f"the run record {summary.run_id} was not written ({code})"]})
        if r.sink == "dynamodb"
        else r
        for r in summary.sinks
    ]
    return result.model_copy(update={"summary": summary.model_copy(update={"result": "partial", "sinks": reports})})


ITEM_SORT_PREFIX = "ITEM#"  # every item record of an org run shares its partition (see item_partition)


def item_partition(run_id: str) -> str:
    """The partition key of every item record of one org run."""
    return f"ORGRUN#{run_id}"


def item_key(run_id: str, account: str, region: str) -> dict[str, str]:
    """The (plain) primary key of one org item's record."""
    return {"pk": item_partition(run_id), "sk": f"{ITEM_SORT_PREFIX}{account}#{region}"}


def item_record(step: ItemStep, result: AuditResult) -> dict[str, Any]:
    """The record of one audited org item (plain, with its key; see :func:`item_key`)."""
    summary = result.summary
    return {
        **item_key(step.run_id, step.account, step.region),
        "item_type": "ORG_ITEM",
        "run_id": step.run_id,
        "account_id": step.account,
        "region": step.region,
        "status": summary.result,
        "resources": summary.resources,
        "findings": summary.findings,
        "failed_by_severity": summary.failed_by_severity,
        "suppressed": summary.suppressed,
        "coverage_gap_count": len(result.coverage_gaps),
        "coverage_gaps": [gap.model_dump() for gap in result.coverage_gaps[:MAX_ITEM_GAPS]],
        "undelivered_findings": summary.undelivered_findings,
        "sinks": [report.model_dump() for report in summary.sinks],
        "duration_seconds": summary.duration_seconds,
        "expires_at": step.expires_at,
    }


class ItemTotals:
    """Sums over an org run's item records, and the gaps of items that have none."""

    def __init__(self) -> None:
        self.items: Counter[str] = Counter()
        self.findings: Counter[str] = Counter({status.value: 0 for status in Status})
        self.failed: Counter[str] = Counter()
        self.resources = 0
        self.undelivered = 0
        self.suppressed = 0
        self.gaps: list[CoverageGap] = []
        self.gap_count = 0
        self.sinks: dict[str, dict[str, Any]] = {}

    def add_gap(self, gap: CoverageGap) -> None:
        """Count a gap of the run (an account not audited, an item failed or not run)."""
        self.gap_count += 1
        self.gaps.append(gap)

    def add_record(self, record: dict[str, Any]) -> None:
        """Add one item's record (as :func:`item_record` wrote it)."""
        self.items[str(record.get("status"))] += 1
        self.resources += int(record.get("resources") or 0)
        self.undelivered += int(record.get("undelivered_findings") or 0)
        self.suppressed += int(record.get("suppressed") or 0)
        self.findings.update({k: int(v) for k, v in (record.get("findings") or {}).items()})
        self.failed.update({k: int(v) for k, v in (record.get("failed_by_severity") or {}).items()})
        stored = record.get("coverage_gaps") or []
        self.gaps.extend(CoverageGap.model_validate(gap) for gap in stored)
        self.gap_count += int(record.get("coverage_gap_count") or len(stored))
        for report in record.get("sinks") or []:
            total = self.sinks.setdefault(report["sink"], {"sink": report["sink"], "undelivered": 0, "errors": {}})
            for key in (*_SINK_COUNTS, "undelivered"):
                if key in report:
                    total[key] = total.get(key, 0) + int(report[key])
            for code, count in (report.get("errors") or {}).items():
                total["errors"][code] = total["errors"].get(code, 0) + int(count)


def org_run_record(
    step: FinalizeStep, totals: ItemTotals, check_ids: list[str], finished: dt.datetime
) -> dict[str, Any]:
    """The org run's record: partial when anything was not read or not delivered, or the Map stopped."""
    partial = bool(totals.gap_count or totals.undelivered or step.map_error)
    gaps = sorted(totals.gaps, key=lambda g: (g.account_id, g.region, g.resource_type))
    return {
        "run_id": step.run_id,
        "mode": "organization",
        "started_at": step.started_at,
        "finished_at": iso(finished),
        "result": "partial" if partial else "complete",
        "accounts": step.accounts,
        "regions": step.regions,
        "checks": check_ids,
        "items": {
            "total": len(step.items),
            "complete": totals.items["complete"],
            "partial": totals.items["partial"],
            "failed": totals.items["failed"],
            "not_run": totals.items["not_run"],
        },
        "resources": totals.resources,
        "findings": dict(totals.findings),
        "failed_by_severity": dict(sorted(totals.failed.items())),
        "suppressed": totals.suppressed,
        "coverage_gap_count": totals.gap_count,
        "coverage_gaps_by_code": dict(Counter(gap.error_code for gap in gaps).most_common()),
        "coverage_gaps": [gap.model_dump() for gap in gaps[:MAX_RUN_GAPS]],
        "undelivered_findings": totals.undelivered,
        "sinks": [totals.sinks[name] for name in sorted(totals.sinks)],
        "map_error": step.map_error,
        "duration_seconds": round((finished - parse_iso(step.started_at)).total_seconds(), 3),
    }
