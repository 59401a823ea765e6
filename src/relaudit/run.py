"""Orchestrate one audit: plan, inventory in one thread pool, evaluate, summarize."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.allocator import tune_malloc
from relaudit.aws import error_code
from relaudit.catalog.evaluate import EVALUATION_ERRORS, NOTHING_UNAVAILABLE, judge
from relaudit.catalog.findings import FindingRecords, Record, record
from relaudit.errors import BadRequestError, RelauditError
from relaudit.graph import evaluate as graph_evaluate
from relaudit.graph.facts import FactSink
from relaudit.inventory import load_collector, start_order
from relaudit.inventory.base import CollectorContext, IncompleteUnitError, SharedLookups
from relaudit.models.check import Severity, Status
from relaudit.models.coverage import CoverageGap
from relaudit.models.finding import AuditResult, Finding, Summary
from relaudit.org import account_gaps, member_factories, select_accounts
from relaudit.plan import Plan, make_plan, select_checks
from relaudit.policy.apply import BoundPolicy

if TYPE_CHECKING:
    from relaudit.aws import ClientFactory
    from relaudit.catalog.loader import Catalog, CompiledCheck
    from relaudit.graph.build import AccountGraph
    from relaudit.graph.workloads import Workload
    from relaudit.models.request import AuditRequest
    from relaudit.models.resource import ResourceDocument
    from relaudit.org import MemberFactories
    from relaudit.policy.apply import ResourcePolicy
    from relaudit.sinks.delivery import DeliveryReport, Publisher, SinkClients
    from relaudit.sinks.retry import DeliveryOptions

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
# A scope (one account's region) whose every unit has ended: its target, region and coverage gaps.
ScopeDone = Callable[["Target", str, list[CoverageGap]], None]
# An account's workload graph and its workloads, as the graph checks judged them.
GraphSeen = Callable[["AccountGraph", list["Workload"]], None]
# A finished unit's documents, and the fields a failed join left unread there (field -> why).
Consumer = Callable[[list["ResourceDocument"], Mapping[str, str]], None]
DEADLINE_EXCEEDED = "DeadlineExceeded"
ENRICHMENT_THREADS_PER_WORKER = 4
SCOPES_PUBLISHED_AT_ONCE = 4


class DeadlineExceededError(Exception):
    """A unit was not collected (or not finished) before the run's deadline."""

    code = DEADLINE_EXCEEDED


@dataclass(frozen=True)
class Unit:
    """The unit of work: one resource type in one region of one account."""

    account_id: str
    region: str
    resource_type: str

    def __str__(self) -> str:
        return f"{self.account_id}/{self.region}/{self.resource_type}"


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
    lookups: SharedLookups | None = None,
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
    if lookups is not None:
        ctx = dataclasses.replace(ctx, lookups=lookups)
    documents = list(load_collector(unit.resource_type).collect(ctx))
    if ctx.incomplete:
        raise IncompleteUnitError(documents, ctx.incomplete)
    return documents


@dataclass(frozen=True)
class Target:
    """One account to inventory: its plan, and the client factory holding its credentials."""

    plan: Plan
    factory: ClientFactory


def inventory(
    plan: Plan,
    factory: ClientFactory,
    max_workers: int,
    consume: Consumer,
    progress: Progress | None = None,
    deadline: float | None = None,
    on_scope: ScopeDone | None = None,
) -> list[CoverageGap]:
    """Collect every (region, type) unit of ``plan`` concurrently (one account; see :func:`inventory_accounts`)."""
    calls = call_pool(max_workers)
    try:
        _, gaps = inventory_accounts(
            {}, max_workers, consume, calls, progress, deadline, planned=[Target(plan, factory)], on_scope=on_scope
        )
    finally:
        calls.shutdown(wait=deadline is None, cancel_futures=True)
    return gaps


class _Scopes:
    """Counts each scope's units still running, and says when a scope is done."""

    def __init__(self, on_scope: ScopeDone | None) -> None:
        self._on_scope = on_scope
        self._left: dict[tuple[str, str], int] = {}
        self._targets: dict[str, Target] = {}

    def add(self, target: Target, region: str) -> None:
        self._targets[target.plan.account_id] = target
        key = (target.plan.account_id, region)
        self._left[key] = self._left.get(key, 0) + 1

    def ended(self, unit: Unit, gaps: list[CoverageGap]) -> None:
        key = (unit.account_id, unit.region)
        self._left[key] -= 1
        if self._left[key] == 0:
            del self._left[key]
            self._done(key, gaps)

    def abandoned(self, gaps: list[CoverageGap]) -> None:
        """The scopes the deadline caught: done now, with their units' DeadlineExceeded gaps."""
        for key in sorted(self._left):
            self._done(key, gaps)
        self._left.clear()

    def _done(self, key: tuple[str, str], gaps: list[CoverageGap]) -> None:
        if self._on_scope is not None:
            scope_gaps = [g for g in gaps if (g.account_id, g.region) == key]
            self._on_scope(self._targets[key[0]], key[1], scope_gaps)


def call_pool(max_workers: int) -> ThreadPoolExecutor:
    """The pool of single AWS calls that wait on nothing else: collectors' per-resource calls
    (``ctx.map``) and the sinks' item writes.

    Units run on a pool of their own (they wait on these calls: sharing one pool could deadlock).
    A thread waiting for a rate-limit token holds its slot, so this pool is four times the units'
    pool: a slow bucket (API Gateway's GetResources at 2.5/s) must not starve another unit's
    Lambda calls. Each unit has max_workers / 4 items in flight, enough for a fast bucket
    (100/s x 35 ms = 3.5 calls in flight). Measured (make bench): a 16-thread pool took 17 s at
    1,000 resources with all checks; 64 threads with windows of 4 or 8, 11.5-14 s either way; at
    10,000 resources windows of 4 took 112-113 s, of 8 127 s (more threads, same buckets).
    """
    return ThreadPoolExecutor(
        max_workers=ENRICHMENT_THREADS_PER_WORKER * max_workers, thread_name_prefix="relaudit-call"
    )


def inventory_accounts(
    planners: Mapping[str, Callable[[], Target]],
    max_workers: int,
    consume: Consumer,
    calls: ThreadPoolExecutor,
    progress: Progress | None = None,
    deadline: float | None = None,
    gap_regions: Sequence[str] = (),
    planned: Sequence[Target] = (),
    on_scope: ScopeDone | None = None,
) -> tuple[list[Target], list[CoverageGap]]:
    """Plan each account, then collect its (region, type) units, all on one thread pool.

    ``planned`` accounts (already planned) have their units collected straight away.

    Each account is planned on the pool (a member's first call assumes its role) and its units
    join the pool as soon as it is planned, so accounts overlap. An account that cannot be
    planned (its role refused, its regions unreadable) becomes gaps ``(account, region, "*")``
    for each of ``gap_regions``, or ``(account, "*", "*")``, and the other accounts go on; a
    BadRequestError (a bad check or region, the same for every account) is raised.

    A failing unit becomes a CoverageGap and the others go on. Errors from AWS (ClientError,
    BotoCoreError) are expected; anything else is a bug and is logged with its traceback, but
    still isolated to its unit so one malformed response cannot sink the audit.

    With a ``deadline`` (a ``time.monotonic()`` value), units not started by then and units still
    running then become ``DeadlineExceeded`` gaps; the pool is not waited for, so the caller can
    still flush what was collected.

    Each unit's documents go to ``consume`` as soon as the unit ends, on the calling thread
    (:class:`Evaluation` turns them into findings while slower units are still collecting, and
    nothing holds every document of a large account at once).

    When every unit of a scope (one account's region) has ended, ``on_scope`` gets it with its
    gaps, on the calling thread: the run publishes it while other scopes are still collected.
    Scopes the deadline caught are handed over last.

    ``calls`` runs the units' per-resource calls (see :func:`call_pool`); its owner shuts it down.

    Returns:
        The accounts planned and the coverage gaps.
    """
    targets: list[Target] = []
    gaps: list[CoverageGap] = []
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="relaudit")
    mapper = windowed_map(calls, max(2, max_workers // 4))
    pending: dict[Future[Any], Unit | str] = {}  # a unit, or the account being planned
    counts = {"done": 0, "units": 0}
    scopes = _Scopes(on_scope)

    def submit_units(target: Target) -> None:
        plan = target.plan
        # Shared by a region's units only: freed with the last of them (nothing else holds them).
        shared = {region: SharedLookups() for region in plan.regions}
        # Type by type across regions, long units first: the pool starts the longest chains at once.
        for resource_type in start_order(plan.resource_types):
            for region in plan.regions:
                unit = Unit(plan.account_id, region, resource_type)
                needs = plan.needs(resource_type)
                future = pool.submit(
                    collect_unit,
                    unit,
                    target.factory,
                    plan.partition,
                    needs,
                    deadline=deadline,
                    mapper=mapper,
                    lookups=shared[region],
                )
                pending[future] = unit
                counts["units"] += 1
                scopes.add(target, region)

    try:
        for target in planned:
            targets.append(target)
            submit_units(target)
        for account, planner in planners.items():
            pending[pool.submit(_plan_account, planner, deadline)] = account
        while pending:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            if not done:
                logger.warning("deadline reached", extra={"units_abandoned": len(pending)})
                gaps.extend(_abandon_all(pending, gap_regions))
                break
            for future in done:
                key = pending.pop(future)
                if not isinstance(key, Unit):
                    planned_target = _planned(key, future, gap_regions, gaps)
                    if planned_target is not None:
                        targets.append(planned_target)
                        submit_units(planned_target)
                    continue
                _collected(key, future, consume, gaps)
                scopes.ended(key, gaps)
                counts["done"] += 1
                if progress:
                    progress(counts["done"], counts["units"], str(key))
    finally:
        pool.shutdown(wait=deadline is None, cancel_futures=True)
    scopes.abandoned(gaps)
    return targets, gaps


def _abandon_all(pending: dict[Future[Any], Unit | str], gap_regions: Sequence[str]) -> list[CoverageGap]:
    """Gaps for every unit and account the deadline caught."""
    gaps: list[CoverageGap] = []
    for future, key in pending.items():
        reason = _abandon(future)
        gaps.extend([_gap(key, reason)] if isinstance(key, Unit) else account_gaps(key, gap_regions, reason))
    return gaps


def _plan_account(planner: Callable[[], Target], deadline: float | None) -> Target:
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExceededError("not planned: the run's deadline passed before this account started")
    return planner()


def _planned(account: str, future: Future[Any], gap_regions: Sequence[str], gaps: list[CoverageGap]) -> Target | None:
    """The planned account, or None after recording its gaps; a bad request is raised."""
    try:
        target: Target = future.result()
    except BadRequestError:
        raise
    except Exception as exc:
        if isinstance(exc, RelauditError | ClientError | BotoCoreError | DeadlineExceededError):
            logger.warning("account not audited", extra={"account_id": account, "error": error_code(exc)})
        else:
            logger.exception("account planning error", extra={"account_id": account})
        gaps.extend(account_gaps(account, gap_regions, exc))
        return None
    return target


def _collected(unit: Unit, future: Future[Any], consume: Consumer, gaps: list[CoverageGap]) -> None:
    """Hand a finished unit's documents on, or record its gap (a failed join: one gap naming its fields)."""
    try:
        documents = future.result()
    except IncompleteUnitError as exc:
        logger.warning("unit incomplete", extra={"unit": str(unit), "field": exc.field_name})
        unavailable: dict[str, str] = {}
        for join in exc.joins:
            gap = _gap(unit, join.error).model_copy(
                update={
                    "message": f"collected without {', '.join(sorted(join.fields))}: {join.error}"[:1000],
                    "fields": tuple(sorted(join.fields)),
                }
            )
            gaps.append(gap)
            unavailable.update(dict.fromkeys(join.fields, f"{gap.error_code}: {str(join.error)[:300]}"))
        consume(exc.documents, unavailable)
    except (ClientError, BotoCoreError, DeadlineExceededError) as exc:
        logger.warning("unit failed", extra={"unit": str(unit), "error": error_code(exc)})
        gaps.append(_gap(unit, exc))
    except Exception as exc:
        logger.exception("collector error", extra={"unit": str(unit)})
        gaps.append(_gap(unit, exc))
    else:
        consume(documents, NOTHING_UNAVAILABLE)


def _abandon(future: Future[Any]) -> DeadlineExceededError:
    """Cancel a unit the deadline caught, saying whether it had started (a running one is left to end)."""
    if future.cancel():
        return DeadlineExceededError("not collected: the run's deadline passed before this unit started")
    return DeadlineExceededError("not finished: the run's deadline passed while this unit ran")


def _gap(unit: Unit, exc: Exception) -> CoverageGap:
    return CoverageGap(
        account_id=unit.account_id,
        region=unit.region,
        resource_type=unit.resource_type,
        error_code=error_code(exc),
        message=str(exc)[:1000],
    )


CHECK_EVALUATION_ERROR = "CheckEvaluationError"


class Evaluation:
    """Findings of the selected checks, evaluated unit by unit as documents arrive, kept per scope.

    A check whose expression fails on a document (a JMESPath type error, e.g. ``length()`` of a
    missing field in a user's check) gives no finding there; instead one ``CheckEvaluationError``
    gap per (account, region, type, check) names the check, how many resources and one of them.
    The other checks and resources are unaffected.
    """

    def __init__(
        self, checks: Sequence[CompiledCheck], policy: BoundPolicy | None = None, on_graph: GraphSeen | None = None
    ) -> None:
        self._policy = policy  # tiers and suppressions (relaudit.policy.apply)
        self._on_graph = on_graph  # each account's graph once built (the HTML report draws it)
        self._by_type: dict[str, list[CompiledCheck]] = defaultdict(list)
        self._fields = {check.id: check.fields() for check in checks}
        self._details: dict[str, str] = {}
        self._graph_checks = [check for check in checks if check.definition.graph]
        self._graph_types = frozenset(check.definition.resource_type for check in self._graph_checks)
        # The policy of each resource a graph check judges (by ARN), kept until the graphs are evaluated.
        self._graph_policies: dict[str, ResourcePolicy] = {}
        for check in checks:
            if not check.definition.graph:
                self._by_type[check.definition.resource_type].append(check)
        # Graph checks: each document's compact graph facts, kept per account until the account's
        # scopes are all read (graph_scopes()).
        self._facts = FactSink() if self._graph_checks else None
        # Redundancy checks' findings wait for the graph (their blast radius), per account: their
        # records are small, and they are published with the account's graph findings.
        self._late = frozenset(c.id for c in checks if c.definition.blast_radius) if self._facts else frozenset()
        self._waiting: dict[str, list[Record]] = defaultdict(list)
        self._records: dict[tuple[str, str], list[Record]] = defaultdict(list)
        self._closed: dict[tuple[str, str, bool], FindingRecords] = {}
        self.resources = 0
        self._failures: dict[tuple[str, str, str, str], list[tuple[str, Exception]]] = defaultdict(list)

    def add(self, documents: Iterable[ResourceDocument], unavailable: Mapping[str, str] = NOTHING_UNAVAILABLE) -> None:
        """Evaluate every selected check of each document's type (the documents are not kept).

        A check reading a field in ``unavailable`` (a join that failed for the whole unit) or in a
        document's ``_unavailable`` gives UNKNOWN there, with a reason naming the field and why.
        """
        for doc in documents:
            self.resources += 1
            if self._facts is not None:
                self._facts.add((doc,))
            records = self._records[(doc.account_id, doc.region)]
            checks = self._by_type.get(doc.resource_type, ())
            view = self._view(doc, checks)
            for check in checks:
                judged = view.judged(check) if view is not None else check
                try:
                    # A check the resource's tier leaves out does not concern it: not evaluated.
                    status, detail = (
                        (Status.NOT_APPLICABLE, None)
                        if judged is None
                        else judge(judged, doc.properties, unavailable, self._fields[check.id])
                    )
                except EVALUATION_ERRORS as exc:
                    self._failures[(doc.account_id, doc.region, doc.resource_type, check.id)].append((doc.arn, exc))
                else:
                    if detail is not None:
                        detail = self._details.setdefault(detail, detail)  # one copy per scope, not per finding
                    # Only a FAILED finding is suppressed (an UNKNOWN one was not judged: nothing to except).
                    marks = view.marks(check.id, status) if view is not None else None
                    records.append(
                        record(judged or check, status, doc.account_id, doc.region, doc.arn, doc.name, detail, marks)
                    )

    def _view(self, doc: ResourceDocument, checks: Sequence[CompiledCheck]) -> ResourcePolicy | None:
        """What the policy says for ``doc`` (None without a policy, or when no check judges it)."""
        graph = doc.resource_type in self._graph_types
        if self._policy is None or not (checks or graph):
            return None
        view = self._policy.for_resource(doc)
        if graph:
            self._graph_policies[doc.arn] = view  # read again when the graph checks are evaluated
        return view

    def close_scope(self, account_id: str, region: str) -> tuple[FindingRecords, list[CoverageGap]]:
        """One scope's findings (in report order) and its evaluation failures as gaps; the findings
        of redundancy checks are held for the graph pass when the graph is read (see graph_scopes)."""
        records = self._records.pop((account_id, region), [])
        if self._late and self._facts is not None:  # not once the graphs are judged
            self._waiting[account_id].extend(rec for rec in records if rec[2] in self._late)
            records = [rec for rec in records if rec[2] not in self._late]
        findings = FindingRecords(records)
        self._closed[(account_id, region, False)] = findings
        failures = sorted(key for key in self._failures if key[:2] == (account_id, region))
        return findings, [self._failure_gap(key, self._failures.pop(key)) for key in failures]

    @staticmethod
    def _failure_gap(key: tuple[str, str, str, str], failed: list[tuple[str, Exception]]) -> CoverageGap:
        account_id, region, resource_type, check_id = key
        arn, error = failed[0]
        logger.warning("check not evaluated", extra={"check": check_id, "resources": len(failed), "example": arn})
        message = f"check {check_id} could not be evaluated on {len(failed)} resource(s), e.g. {arn}: {error}"
        return CoverageGap(
            account_id=account_id,
            region=region,
            resource_type=resource_type,
            error_code=CHECK_EVALUATION_ERROR,
            message=message[:1000],
        )

    def graph_scopes(
        self, gaps: list[CoverageGap]
    ) -> Iterator[tuple[str, dict[str, tuple[FindingRecords, list[CoverageGap]]]]]:
        """Each account's graph checks, once every scope of the run is read: yields each evaluated
        account with its graph findings and evaluation failures by region.

        An account whose graph misses a source (its gap is already reported) gets UNKNOWN graph
        findings: a missing edge must neither pass nor fail a check, and no stored verdict is
        touched (see completed_slices). Its redundancy findings are published as judged, without
        a blast radius.
        """
        if self._facts is None:
            return
        facts_by_account, self._facts = self._facts.by_account, None
        waiting, self._waiting = self._waiting, defaultdict(list)
        incomplete = graph_evaluate.incomplete_accounts(gaps)
        for account_id in sorted(facts_by_account.keys() | waiting.keys()):
            facts = facts_by_account.get(account_id, [])
            failed: dict[str, list[CoverageGap]] = defaultdict(list)
            by_region: dict[str, list[Record]] = defaultdict(list)
            if account_id in incomplete:
                for rec in waiting.pop(account_id, []):
                    by_region[rec[1]].append(rec)
                logger.warning(
                    "graph checks not evaluated", extra={"account_id": account_id, "missing": incomplete[account_id]}
                )
                for rec in graph_evaluate.unknown_account(
                    facts, self._graph_checks, incomplete[account_id], self._graph_policies.get
                ):
                    by_region[rec[1]].append(rec)
                yield account_id, self._graph_regions(account_id, by_region, failed)
                continue
            account, workloads = graph_evaluate.account_graph(facts)
            if self._on_graph is not None:
                self._on_graph(account, workloads)
            records, failures = graph_evaluate.evaluate_account(
                account,
                self._graph_checks,
                self._graph_policies.get,
                workloads=workloads,
                redundancy=waiting.pop(account_id, []),
            )
            for rec in records:
                by_region[rec[1]].append(rec)
            for check_id, errors in failures.items():
                per_key: dict[tuple[str, str, str, str], list[tuple[str, Exception]]] = defaultdict(list)
                for arn, error in errors:
                    node = account.node(arn)
                    per_key[(account_id, node.region, node.type, check_id)].append((arn, error))
                for key, errs in per_key.items():
                    failed[key[1]].append(self._failure_gap(key, errs))
            yield account_id, self._graph_regions(account_id, by_region, failed)
        self._graph_policies = {}

    def _graph_regions(
        self, account_id: str, by_region: dict[str, list[Record]], failed: dict[str, list[CoverageGap]]
    ) -> dict[str, tuple[FindingRecords, list[CoverageGap]]]:
        scopes: dict[str, tuple[FindingRecords, list[CoverageGap]]] = {}
        for region in sorted(by_region.keys() | failed.keys()):
            findings = FindingRecords(sorted(by_region.get(region, []), key=lambda rec: rec[:4]))
            self._closed[(account_id, region, True)] = findings
            scopes[region] = (findings, failed.get(region, []))
        return scopes

    def finish(self, gaps: list[CoverageGap]) -> FindingRecords:
        """Every scope's findings in report order (a scope's graph findings after its own); failures
        of scopes not closed appended to ``gaps``."""
        for account_id, region in sorted({key[:2] for key in self._failures} | self._records.keys()):
            gaps.extend(self.close_scope(account_id, region)[1])
        closed, self._closed = self._closed, {}
        return FindingRecords.joined(closed[key] for key in sorted(closed))


def summarize(
    plan: Plan | Sequence[Plan],
    findings: Sequence[Finding],
    gaps: list[CoverageGap],
    resources: int,
    started: dt.datetime,
    elapsed: float,
    *,
    accounts: Sequence[str] | None = None,
    checks: int | None = None,
    run_id: str | None = None,
    delivery: DeliveryReport | None = None,
    policy_notes: Sequence[str] = (),
) -> Summary:
    """Count a run's outcome (over the plans of every account audited), once, from what the stages returned.

    ``accounts`` and ``checks`` default to the plans' (an organization run names accounts it
    could not plan too); ``delivery`` is what the sinks did: undelivered findings make it partial;
    ``policy_notes`` are what the policy file said about this run (expired suppressions, say).
    """
    plans = [plan] if isinstance(plan, Plan) else list(plan)
    if isinstance(findings, FindingRecords):  # counted without building each finding
        outcomes: Iterable[tuple[Status, Severity, bool]] = findings.outcomes()
    else:
        outcomes = ((f.status, f.severity, f.suppression is not None) for f in findings)
    statuses: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    suppressed: Counter[str] = Counter()  # suppressed FAILED findings by severity (--fail-on ignores them)
    for status, severity, is_suppressed in outcomes:
        statuses[status.value] += 1
        if status is Status.FAILED:
            failed[severity.value] += 1
            if is_suppressed:
                suppressed[severity.value] += 1
    undelivered = len(delivery.undelivered) if delivery else 0
    return Summary(
        result="partial" if gaps or statuses[Status.UNKNOWN.value] or undelivered else "complete",
        started_at=started.isoformat(timespec="seconds"),
        finished_at=(started + dt.timedelta(seconds=elapsed)).isoformat(timespec="seconds"),
        duration_seconds=round(elapsed, 3),
        accounts=list(accounts) if accounts is not None else [p.account_id for p in plans],
        regions=list(dict.fromkeys(region for p in plans for region in p.regions)),
        checks=checks if checks is not None else (len(plans[0].checks) if plans else 0),
        resources=resources,
        findings={status.value: statuses.get(status.value, 0) for status in Status},
        failed_by_severity=dict(sorted(failed.items())),
        coverage_gaps=len(gaps),
        suppressed=sum(suppressed.values()),
        suppressed_by_severity=dict(sorted(suppressed.items())),
        policy_notes=list(policy_notes),
        undelivered_findings=undelivered,
        run_id=run_id,
        sinks=delivery.reports if delivery else [],
    )


def completed_slices(plan: Plan | Sequence[Plan], gaps: list[CoverageGap]) -> frozenset[tuple[str, str, str]]:
    """The (account, region, check id) slices this run fully read: plan regions x checks, minus gaps.

    A check is incomplete in a region when its resource type's unit failed there (a gap without
    fields), or when a join failed there that fills a field the check reads (a gap with fields):
    the other checks of that type are complete. The lifecycle archives nothing outside the
    completed slices.
    """
    failed_units: set[tuple[str, str, str]] = set()
    lost_fields: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for gap in gaps:
        key = (gap.account_id, gap.region, gap.resource_type)
        if gap.fields:
            lost_fields[key].update(gap.fields)
        else:
            failed_units.add(key)
    graph_incomplete = set(graph_evaluate.incomplete_accounts(gaps))  # a graph check reads every region
    plans = [plan] if isinstance(plan, Plan) else list(plan)
    complete: set[tuple[str, str, str]] = set()
    for p in plans:
        for check in p.checks:
            if check.definition.graph and p.account_id in graph_incomplete:
                continue
            fields = check.fields()
            for region in p.regions:
                key = (p.account_id, region, check.definition.resource_type)
                if key not in failed_units and not fields & lost_fields.get(key, set()):
                    complete.add((p.account_id, region, check.definition.id))
    return frozenset(complete)


@dataclass(frozen=True)
class Accounts:
    """The accounts one audit reads: ``planned`` ones, and ones planned on the pool (``planners``:
    a member's first call assumes its role there, and a refusal is that account's gaps)."""

    ids: Sequence[str]
    planned: Sequence[Target] = ()
    planners: Mapping[str, Callable[[], Target]] = dataclasses.field(default_factory=dict)


def run(
    request: AuditRequest,
    catalog: Catalog,
    factory: ClientFactory,
    progress: Progress | None = None,
    deadline: float | None = None,
    sink_clients: SinkClients | None = None,
    delivery_options: DeliveryOptions | None = None,
    *,
    members: MemberFactories | None = None,
    run_id: str | None = None,
    on_graph: GraphSeen | None = None,
) -> AuditResult:
    """Audit the account (or accounts) ``request`` names: plan, :func:`audit`, then record the run.

    With ``request.accounts`` or ``request.org``, each account is audited through its assumed
    role (``members``, default from the request's role and external id) and every account's
    (region, type) units share the one pool; an account whose role cannot be assumed becomes
    coverage gaps with resource type ``"*"`` (see :func:`relaudit.org.account_gaps`) and the
    others go on.

    With ``request.sinks`` the run's record is written to the findings table last (see
    :func:`relaudit.sinks.record.record_run`); the other arguments are :func:`audit`'s.

    Raises:
        BadRequestError: The request names an unknown region or check, or its policy file is bad.
        RelauditError: The account cannot be identified or its regions listed.
    """
    tune_malloc()  # before the pool's threads make their arenas
    policy = BoundPolicy(request.config, catalog.checks)  # before any AWS call: a bad file is refused first
    checks = select_checks(catalog, request.checks)
    if request.multi_account:
        ids = select_accounts(request, factory)
        members = members or member_factories(request, factory)
        planners = {account: _member_planner(request, catalog, account, members.get(account)) for account in ids}
        accounts = Accounts(ids, planners=planners)
    else:
        plan = make_plan(request, catalog, factory)
        accounts = Accounts([plan.account_id], planned=[Target(plan, factory)])
    result = audit(
        request,
        checks,
        policy,
        accounts,
        factory,
        progress,
        deadline,
        sink_clients,
        delivery_options,
        run_id=run_id,
        on_graph=on_graph,
    )
    if not (request.sinks and request.table):
        return result
    from relaudit.sinks.dynamodb import FindingsTable  # only when publishing
    from relaudit.sinks.record import record_run

    table_factory = sink_clients.table if sink_clients is not None else factory
    table = FindingsTable(
        table_factory.client("dynamodb"), request.table, delivery_options, writer=table_factory.writer("dynamodb")
    )
    return record_run(result, table, [check.definition.id for check in checks])


def audit(
    request: AuditRequest,
    checks: Sequence[CompiledCheck],
    policy: BoundPolicy,
    accounts: Accounts,
    factory: ClientFactory,
    progress: Progress | None = None,
    deadline: float | None = None,
    sink_clients: SinkClients | None = None,
    delivery_options: DeliveryOptions | None = None,
    *,
    run_id: str | None = None,
    on_graph: GraphSeen | None = None,
) -> AuditResult:
    """The engine: for each (account, region) scope, inventory -> evaluate -> every sink publishes
    it, while other scopes are still read; then the graph checks, per account; then the summary.

    ``request`` gives the sinks, the table, the workers and the regions (named in an unplanned
    account's gaps); ``checks`` and ``policy`` are the run's, ``accounts`` what it reads.

    ``deadline`` (a ``time.monotonic()`` value) bounds collection: what is not collected by then
    becomes ``DeadlineExceeded`` coverage gaps and the run reports partial (see
    :func:`inventory_accounts`); scopes published before it stay published.

    With ``request.sinks`` each scope goes to Security Hub and/or the findings table
    (:mod:`relaudit.sinks.delivery`): ``sink_clients`` gives the table's factory and one factory per
    audited account (default: ``factory`` for the table, each account's own factory for its
    findings); ``delivery_options`` sets retries and clocks. No run record is written here.
    ``run_id`` names the run (default: a new one); ``on_graph`` gets each account's workload graph
    once built (only when a graph check is selected).
    """
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    run_id = run_id or f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    evaluation = Evaluation(checks, policy, on_graph)
    calls = call_pool(request.max_workers)  # the units' per-resource calls, then the sinks' writes
    try:
        with _Publishing(request, factory, run_id, sink_clients, delivery_options, calls) as publishing:

            def scope_done(target: Target, region: str, scope_gaps: list[CoverageGap]) -> None:
                findings, failures = evaluation.close_scope(target.plan.account_id, region)
                publishing.evaluation_gaps.extend(failures)
                publishing.scope(target, region, findings, [*scope_gaps, *failures])

            targets, gaps = inventory_accounts(
                accounts.planners,
                request.max_workers,
                evaluation.add,
                calls,
                progress,
                deadline,
                request.regions,
                planned=accounts.planned,
                on_scope=scope_done,
            )
            # Graph checks read every region of an account: judged, and published as scopes of their
            # own, once all of them are read (each region's other checks were published already).
            by_account = {target.plan.account_id: target for target in targets if target.plan.reads_graph}
            judged = evaluation.graph_scopes(gaps)
            # An account with nothing in its graph has nothing of it left: its stored graph
            # findings are reconciled too (archived, where its units were read).
            for account_id, graph_scopes in chain(judged, ((a, {}) for a in sorted(by_account))):
                target = by_account.pop(account_id, None)
                if target is None:
                    continue
                for region in target.plan.regions:
                    found, failures = graph_scopes.get(region, (FindingRecords([]), []))
                    publishing.evaluation_gaps.extend(failures)
                    publishing.scope(target, region, found, [*gaps, *failures], graph=True)
            gaps.extend(publishing.evaluation_gaps)
            delivery = publishing.finish()
    finally:
        # Published scopes have had their writes; what is left is abandoned units' calls.
        calls.shutdown(wait=deadline is None, cancel_futures=True)
    plans = [target.plan for target in targets]
    findings = evaluation.finish(gaps)
    gaps.sort(key=lambda g: (g.account_id, g.region, g.resource_type))
    summary = summarize(
        plans,
        findings,
        gaps,
        evaluation.resources,
        started,
        time.monotonic() - clock,
        accounts=accounts.ids,
        checks=len(checks),
        run_id=run_id,
        delivery=delivery,
        policy_notes=policy.notes,
    )
    scope = completed_slices(plans, gaps)
    # Not validated: built from validated parts, and validating would build every finding at once.
    return AuditResult.model_construct(summary=summary, findings=findings, coverage_gaps=gaps, completed_slices=scope)


class _Publishing:
    """The sinks of one run, fed scope by scope while inventory goes on (nothing when no sink is named).

    Scopes are published on their own small pool (at most SCOPES_PUBLISHED_AT_ONCE: memory holds
    the scopes in flight), their item writes on the run's call pool (``writes``). Security Hub
    paces each (account, region) on its own, so scopes overlap; a scope published is delivered
    even if the run stops later.
    """

    def __init__(
        self,
        request: AuditRequest,
        factory: ClientFactory,
        run_id: str,
        sink_clients: SinkClients | None,
        options: DeliveryOptions | None,
        writes: Executor,
    ) -> None:
        self.evaluation_gaps: list[CoverageGap] = []
        self._publisher: Publisher | None = None
        self._futures: list[Future[None]] = []
        self._accounts: dict[str, ClientFactory] = {}
        if not (request.sinks and request.table):
            return
        from relaudit.sinks.delivery import Publisher, SinkClients  # only when publishing

        clients = sink_clients or SinkClients(table=factory, accounts=self._accounts)
        self._scopes = ThreadPoolExecutor(max_workers=SCOPES_PUBLISHED_AT_ONCE, thread_name_prefix="relaudit-scope")
        self._publisher = Publisher(request.sinks, request.table, clients, run_id, options, writes)

    def __enter__(self) -> _Publishing:
        return self

    def __exit__(self, *_: object) -> None:
        if self._publisher is not None:
            self._scopes.shutdown(wait=True)

    def scope(
        self, target: Target, region: str, findings: FindingRecords, gaps: list[CoverageGap], *, graph: bool = False
    ) -> None:
        """Queue one finished scope for publishing (the checks it read completely are reconciled).

        A scope's graph checks are published apart (``graph=True``), once the account's graph is
        judged: until then they are not complete anywhere, so nothing of theirs is archived.
        """
        if self._publisher is None:
            return
        self._accounts.setdefault(target.plan.account_id, target.factory)
        checks = tuple(check for check in target.plan.checks if target.plan.after_graph(check) is graph)
        plan = dataclasses.replace(target.plan, regions=(region,), checks=checks)
        complete = {check for _, _, check in completed_slices(plan, gaps)}
        self._futures.append(
            self._scopes.submit(self._publisher.publish_scope, target.plan.account_id, region, findings, complete)
        )

    def finish(self) -> DeliveryReport | None:
        """Wait for every scope queued; what the sinks did."""
        if self._publisher is None:
            return None
        for future in self._futures:
            future.result()
        return self._publisher.finish()


def _member_planner(
    request: AuditRequest, catalog: Catalog, account: str, factory: ClientFactory
) -> Callable[[], Target]:
    """Plan one member account on its own credentials (its first call assumes its role)."""

    def plan_account() -> Target:
        plan = make_plan(request, catalog, factory)
        if plan.account_id != account:
            raise RelauditError(f"the role assumed for account {account} belongs to account {plan.account_id}")
        return Target(plan, factory)

    return plan_account
