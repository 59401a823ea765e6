"""Orchestrate one audit: plan, inventory in one thread pool, evaluate, summarize."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from jmespath.exceptions import JMESPathError

from relaudit.catalog.evaluate import evaluate
from relaudit.inventory import load_collector
from relaudit.inventory.base import CollectorContext, IncompleteUnitError
from relaudit.models.check import Status
from relaudit.models.coverage import CoverageGap
from relaudit.models.finding import AuditResult, Finding, Summary
from relaudit.plan import Plan, make_plan
from relaudit.sinks.delivery import SinkClients, publish

if TYPE_CHECKING:
    from relaudit.aws import ClientFactory
    from relaudit.catalog.loader import Catalog, CompiledCheck
    from relaudit.models.request import AuditRequest
    from relaudit.models.resource import ResourceDocument
    from relaudit.sinks.retry import DeliveryOptions

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
DEADLINE_EXCEEDED = "DeadlineExceeded"


class DeadlineExceededError(Exception):
    """A unit was not collected (or not finished) before the run's deadline."""


@dataclass(frozen=True)
class Unit:
    """The unit of work: one resource type in one region of one account."""

    account_id: str
    region: str
    resource_type: str

    def __str__(self) -> str:
        return f"{self.account_id}/{self.region}/{self.resource_type}"


def _error_code(exc: Exception) -> str:
    if isinstance(exc, DeadlineExceededError):
        return DEADLINE_EXCEEDED
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


def windowed_map(
    pool: ThreadPoolExecutor, window: int
) -> Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]:
    """A CollectorContext mapper: at most ``window`` items of one unit in flight on ``pool``.

    The window keeps one big unit (thousands of functions waiting on Lambda's 15/s bucket) from
    filling the shared pool's queue ahead of every other unit's calls.
    """

    def mapper(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        source = iter(items)
        in_flight: deque[Future[Any]] = deque(pool.submit(fn, item) for item in islice(source, window))
        try:
            while in_flight:
                result = in_flight.popleft().result()
                for item in source:
                    in_flight.append(pool.submit(fn, item))
                    break
                yield result
        finally:
            for future in in_flight:
                future.cancel()

    return mapper


def collect_unit(
    unit: Unit,
    factory: ClientFactory,
    partition: str,
    needs: frozenset[str] | None = None,
    page_size: int | None = None,
    deadline: float | None = None,
    mapper: Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]] | None = None,
) -> list[ResourceDocument]:
    """Run one collector for one unit; raises on failure (the caller turns that into a gap).

    Raises:
        IncompleteUnitError: The collector finished but an enrichment failed; it carries the
            documents, which are still evaluated, and the unit is reported as a gap.
    """
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExceededError("not collected: the run's deadline passed before this unit started")
    ctx = CollectorContext(unit.account_id, unit.region, factory.bound(unit.region), partition, page_size, needs)
    if mapper is not None:
        ctx = dataclasses.replace(ctx, mapper=mapper)
    documents = list(load_collector(unit.resource_type).collect(ctx))
    if ctx.incomplete:
        raise IncompleteUnitError(documents, ctx.incomplete)
    return documents


def inventory(
    plan: Plan,
    factory: ClientFactory,
    max_workers: int,
    progress: Progress | None = None,
    deadline: float | None = None,
) -> tuple[list[ResourceDocument], list[CoverageGap]]:
    """Collect every (region, type) unit of ``plan`` concurrently.

    A failing unit becomes a CoverageGap and the others go on. Errors from AWS (ClientError,
    BotoCoreError) are expected; anything else is a bug and is logged with its traceback, but
    still isolated to its unit so one malformed response cannot sink the audit.

    With a ``deadline`` (a ``time.monotonic()`` value), units not started by then and units still
    running then become ``DeadlineExceeded`` gaps; the pool is not waited for, so the caller can
    still flush what was collected.
    """
    units = [Unit(plan.account_id, r, t) for r in plan.regions for t in plan.resource_types]
    documents: list[ResourceDocument] = []
    gaps: list[CoverageGap] = []
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="relaudit")
    # Per-resource calls (ctx.map) run on a second pool: sharing the units' pool could deadlock.
    enrichment = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="relaudit-enrich")
    mapper = windowed_map(enrichment, max(1, max_workers // 2))
    try:
        pending: dict[Future[list[ResourceDocument]], Unit] = {
            pool.submit(
                collect_unit,
                unit,
                factory,
                plan.partition,
                plan.needs(unit.resource_type),
                deadline=deadline,
                mapper=mapper,
            ): unit
            for unit in units
        }
        done_count = 0
        while pending:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            if not done:
                logger.warning("deadline reached", extra={"units_abandoned": len(pending)})
                gaps.extend(_gap(unit, _abandon(future)) for future, unit in pending.items())
                break
            for future in done:
                unit = pending.pop(future)
                done_count += 1
                try:
                    documents.extend(future.result())
                except IncompleteUnitError as exc:
                    logger.warning("unit incomplete", extra={"unit": str(unit), "field": exc.field_name})
                    documents.extend(exc.documents)
                    gaps.append(_gap(unit, exc.cause).model_copy(update={"message": str(exc)[:1000]}))
                except (ClientError, BotoCoreError, DeadlineExceededError) as exc:
                    logger.warning("unit failed", extra={"unit": str(unit), "error": _error_code(exc)})
                    gaps.append(_gap(unit, exc))
                except Exception as exc:
                    logger.exception("collector error", extra={"unit": str(unit)})
                    gaps.append(_gap(unit, exc))
                if progress:
                    progress(done_count, len(units), str(unit))
    finally:
        pool.shutdown(wait=deadline is None, cancel_futures=True)
        enrichment.shutdown(wait=deadline is None, cancel_futures=True)
    return documents, gaps


def _abandon(future: Future[list[ResourceDocument]]) -> DeadlineExceededError:
    """Cancel a unit the deadline caught, saying whether it had started (a running one is left to end)."""
    if future.cancel():
        return DeadlineExceededError("not collected: the run's deadline passed before this unit started")
    return DeadlineExceededError("not finished: the run's deadline passed while this unit ran")


def _gap(unit: Unit, exc: Exception) -> CoverageGap:
    return CoverageGap(
        account_id=unit.account_id,
        region=unit.region,
        resource_type=unit.resource_type,
        error_code=_error_code(exc),
        message=str(exc)[:1000],
    )


CHECK_EVALUATION_ERROR = "CheckEvaluationError"


def evaluate_all(
    checks: tuple[CompiledCheck, ...], documents: list[ResourceDocument], gaps: list[CoverageGap] | None = None
) -> list[Finding]:
    """Evaluate every selected check on every document of its type.

    A check whose expression fails on a document (a JMESPath type error, e.g. ``length()`` of a
    missing field in a user's check) gives no finding there; instead one ``CheckEvaluationError``
    gap per (account, region, type, check) is appended to ``gaps``, naming the check, how many
    resources and one of them. The other checks and resources are unaffected.
    """
    by_type: dict[str, list[CompiledCheck]] = defaultdict(list)
    for check in checks:
        by_type[check.definition.resource_type].append(check)
    findings: list[Finding] = []
    failures: dict[tuple[str, str, str, str], list[tuple[str, JMESPathError]]] = defaultdict(list)
    for doc in documents:
        for check in by_type.get(doc.resource_type, []):
            try:
                findings.append(evaluate(check, doc))
            except JMESPathError as exc:
                failures[(doc.account_id, doc.region, doc.resource_type, check.id)].append((doc.arn, exc))
    for (account_id, region, resource_type, check_id), failed in sorted(failures.items()):
        arn, error = failed[0]
        logger.warning("check not evaluated", extra={"check": check_id, "resources": len(failed), "example": arn})
        message = f"check {check_id} could not be evaluated on {len(failed)} resource(s), e.g. {arn}: {error}"
        if gaps is not None:
            gaps.append(
                CoverageGap(
                    account_id=account_id,
                    region=region,
                    resource_type=resource_type,
                    error_code=CHECK_EVALUATION_ERROR,
                    message=message[:1000],
                )
            )
    findings.sort(key=lambda f: (f.account_id, f.region, f.check_id, f.resource_arn))
    return findings


def summarize(
    plan: Plan,
    findings: list[Finding],
    gaps: list[CoverageGap],
    resources: int,
    started: dt.datetime,
    elapsed: float,
) -> Summary:
    """Count a run's outcome."""
    statuses = Counter(f.status.value for f in findings)
    failed = Counter(f.severity.value for f in findings if f.status is Status.FAILED)
    return Summary(
        result="partial" if gaps else "complete",
        started_at=started.isoformat(timespec="seconds"),
        finished_at=(started + dt.timedelta(seconds=elapsed)).isoformat(timespec="seconds"),
        duration_seconds=round(elapsed, 3),
        accounts=[plan.account_id],
        regions=list(plan.regions),
        checks=len(plan.checks),
        resources=resources,
        findings={status.value: statuses.get(status.value, 0) for status in Status},
        failed_by_severity=dict(sorted(failed.items())),
        coverage_gaps=len(gaps),
    )


def completed_scope(plan: Plan, gaps: list[CoverageGap]) -> frozenset[tuple[str, str, str]]:
    """The (account, region, check id) units this run fully read: plan regions x checks, minus gaps.

    A check's unit is incomplete when its resource type has a coverage gap in that region; the
    lifecycle archives nothing outside the completed units.
    """
    missing = {(gap.account_id, gap.region, gap.resource_type) for gap in gaps}
    return frozenset(
        (plan.account_id, region, check.definition.id)
        for region in plan.regions
        for check in plan.checks
        if (plan.account_id, region, check.definition.resource_type) not in missing
    )


def run(
    request: AuditRequest,
    catalog: Catalog,
    factory: ClientFactory,
    progress: Progress | None = None,
    deadline: float | None = None,
    sink_clients: SinkClients | None = None,
    delivery_options: DeliveryOptions | None = None,
) -> AuditResult:
    """Audit one account as ``request`` says and return findings, gaps and a summary.

    ``deadline`` (a ``time.monotonic()`` value) bounds collection: what is not collected by then
    becomes ``DeadlineExceeded`` coverage gaps and the run reports partial (see :func:`inventory`).

    With ``request.sinks`` the findings then go to Security Hub and/or the findings table
    (:mod:`relaudit.sinks.delivery`): ``sink_clients`` gives the table's factory and one factory per
    audited account (default: ``factory`` for both); ``delivery_options`` sets retries and clocks.

    Raises:
        BadRequestError: The request names an unknown region or check.
        RelauditError: The account cannot be identified or its regions listed.
    """
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    plan = make_plan(request, catalog, factory)
    documents, gaps = inventory(plan, factory, request.max_workers, progress, deadline)
    findings = evaluate_all(plan.checks, documents, gaps)
    gaps.sort(key=lambda g: (g.account_id, g.region, g.resource_type))
    summary = summarize(plan, findings, gaps, len(documents), started, time.monotonic() - clock)
    summary.run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    result = AuditResult(
        summary=summary, findings=findings, coverage_gaps=gaps, completed_scope=completed_scope(plan, gaps)
    )
    if request.sinks and request.table:
        clients = sink_clients or SinkClients(table=factory, accounts={plan.account_id: factory})
        with ThreadPoolExecutor(max_workers=request.max_workers, thread_name_prefix="relaudit-sink") as pool:
            result = publish(
                result,
                sinks=list(request.sinks),
                table_name=request.table,
                clients=clients,
                check_ids=[check.definition.id for check in plan.checks],
                elapsed=lambda: time.monotonic() - clock,
                options=delivery_options,
                executor=pool,
            )
    return result
