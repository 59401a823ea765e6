"""Orchestrate one audit: plan, inventory in one thread pool, evaluate, summarize."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.allocator import tune_malloc
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
from relaudit.org import account_gaps, error_code, member_factories, select_accounts
from relaudit.plan import Plan, make_plan, select_checks
from relaudit.policy.apply import BoundPolicy

if TYPE_CHECKING:
    from relaudit.aws import ClientFactory
    from relaudit.catalog.loader import Catalog, CompiledCheck
    from relaudit.models.request import AuditRequest
    from relaudit.models.resource import ResourceDocument
    from relaudit.org import MemberFactories
    from relaudit.policy.apply import ResourcePolicy
    from relaudit.sinks.delivery import SinkClients
    from relaudit.sinks.retry import DeliveryOptions

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
# A finished unit's documents, and the fields a failed join left unread there (field -> why).
Consumer = Callable[[list["ResourceDocument"], Mapping[str, str]], None]
DEADLINE_EXCEEDED = "DeadlineExceeded"
ENRICHMENT_THREADS_PER_WORKER = 4


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
) -> list[CoverageGap]:
    """Collect every (region, type) unit of ``plan`` concurrently (one account; see :func:`inventory_accounts`)."""
    _, gaps = inventory_accounts({}, max_workers, consume, progress, deadline, planned=[Target(plan, factory)])
    return gaps


def inventory_accounts(
    planners: Mapping[str, Callable[[], Target]],
    max_workers: int,
    consume: Consumer,
    progress: Progress | None = None,
    deadline: float | None = None,
    gap_regions: Sequence[str] = (),
    planned: Sequence[Target] = (),
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

    Returns:
        The accounts planned and the coverage gaps.
    """
    targets: list[Target] = []
    gaps: list[CoverageGap] = []
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="relaudit")
    # Per-resource calls (ctx.map) run on a second pool: sharing the units' pool could deadlock.
    # A thread waiting for a rate-limit token holds its slot, so the pool is four times the
    # units' pool: a slow bucket (API Gateway's GetResources at 2.5/s) must not starve another
    # unit's Lambda calls. Each unit has max_workers / 4 items in flight, enough for a fast bucket
    # (100/s x 35 ms = 3.5 calls in flight). Measured (make bench): a 16-thread pool took 17 s at
    # 1,000 resources with all checks; 64 threads with windows of 4 or 8, 11.5-14 s either way;
    # at 10,000 resources windows of 4 took 112-113 s, of 8 127 s (more threads, same buckets).
    enrichment = ThreadPoolExecutor(
        max_workers=ENRICHMENT_THREADS_PER_WORKER * max_workers, thread_name_prefix="relaudit-enrich"
    )
    mapper = windowed_map(enrichment, max(2, max_workers // 4))
    pending: dict[Future[Any], Unit | str] = {}  # a unit, or the account being planned
    counts = {"done": 0, "units": 0}

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
                counts["done"] += 1
                if progress:
                    progress(counts["done"], counts["units"], str(key))
    finally:
        pool.shutdown(wait=deadline is None, cancel_futures=True)
        enrichment.shutdown(wait=deadline is None, cancel_futures=True)
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
        logger.warning("unit failed", extra={"unit": str(unit), "error": _error_code(exc)})
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
        error_code=_error_code(exc),
        message=str(exc)[:1000],
    )


CHECK_EVALUATION_ERROR = "CheckEvaluationError"


class Evaluation:
    """Findings of the selected checks, evaluated unit by unit as documents arrive.

    A check whose expression fails on a document (a JMESPath type error, e.g. ``length()`` of a
    missing field in a user's check) gives no finding there; :meth:`finish` instead reports one
    ``CheckEvaluationError`` gap per (account, region, type, check), naming the check, how many
    resources and one of them. The other checks and resources are unaffected.
    """

    def __init__(self, checks: Sequence[CompiledCheck], policy: BoundPolicy | None = None) -> None:
        self._policy = policy  # tiers and suppressions (relaudit.policy.apply)
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
        # Graph checks: each document's compact graph facts, kept per account until finish().
        self._facts = FactSink() if self._graph_checks else None
        self._records: list[Record] = []
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
                    self._records.append(
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

    def _evaluate_graphs(self, gaps: list[CoverageGap]) -> None:
        """Each account's graph checks, once all its scopes are read; an account whose graph
        misses a source gets a GraphIncomplete gap instead (no graph finding at all)."""
        if self._facts is None:
            return
        incomplete = graph_evaluate.incomplete_accounts(gaps)
        for account_id, facts in sorted(self._facts.by_account.items()):
            if account_id in incomplete:
                message = f"graph checks not evaluated: the graph misses {incomplete[account_id]}"
                gaps.append(
                    CoverageGap(
                        account_id=account_id,
                        region="*",
                        resource_type="*",
                        error_code=graph_evaluate.GRAPH_INCOMPLETE,
                        message=message[:1000],
                    )
                )
                continue
            account, _ = graph_evaluate.account_graph(facts)
            records, failures = graph_evaluate.evaluate_account(account, self._graph_checks, self._graph_policies.get)
            self._records.extend(records)
            for check_id, failed in failures.items():
                for arn, error in failed:
                    node = account.node(arn)
                    self._failures[(account_id, node.region, node.type, check_id)].append((arn, error))
        self._facts = None
        self._graph_policies = {}

    def finish(self, gaps: list[CoverageGap]) -> FindingRecords:
        """The findings in report order; evaluation failures appended to ``gaps``."""
        self._evaluate_graphs(gaps)
        for (account_id, region, resource_type, check_id), failed in sorted(self._failures.items()):
            arn, error = failed[0]
            logger.warning("check not evaluated", extra={"check": check_id, "resources": len(failed), "example": arn})
            message = f"check {check_id} could not be evaluated on {len(failed)} resource(s), e.g. {arn}: {error}"
            gaps.append(
                CoverageGap(
                    account_id=account_id,
                    region=region,
                    resource_type=resource_type,
                    error_code=CHECK_EVALUATION_ERROR,
                    message=message[:1000],
                )
            )
        findings, self._records = FindingRecords(self._records), []
        return findings


def summarize(
    plan: Plan | Sequence[Plan],
    findings: Sequence[Finding],
    gaps: list[CoverageGap],
    resources: int,
    started: dt.datetime,
    elapsed: float,
) -> Summary:
    """Count a run's outcome (over the plans of every account audited)."""
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
    return Summary(
        result="partial" if gaps or statuses[Status.UNKNOWN.value] else "complete",
        started_at=started.isoformat(timespec="seconds"),
        finished_at=(started + dt.timedelta(seconds=elapsed)).isoformat(timespec="seconds"),
        duration_seconds=round(elapsed, 3),
        accounts=[p.account_id for p in plans],
        regions=list(dict.fromkeys(region for p in plans for region in p.regions)),
        checks=len(plans[0].checks) if plans else 0,
        resources=resources,
        findings={status.value: statuses.get(status.value, 0) for status in Status},
        failed_by_severity=dict(sorted(failed.items())),
        coverage_gaps=len(gaps),
        suppressed=sum(suppressed.values()),
        suppressed_by_severity=dict(sorted(suppressed.items())),
    )


def completed_scope(plan: Plan | Sequence[Plan], gaps: list[CoverageGap]) -> frozenset[tuple[str, str, str]]:
    """The (account, region, check id) units this run fully read: plan regions x checks, minus gaps.

    A check is incomplete in a region when its resource type's unit failed there (a gap without
    fields), or when a join failed there that fills a field the check reads (a gap with fields):
    the other checks of that type are complete. The lifecycle archives nothing outside the
    completed units.
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
    record_run: bool = True,
) -> AuditResult:
    """Audit the account (or accounts) ``request`` names and return findings, gaps and a summary.

    With ``request.accounts`` or ``request.org``, each account is audited through its assumed
    role (``members``, default from the request's role and external id) and every account's
    (region, type) units share the one pool; an account whose role cannot be assumed becomes
    coverage gaps with resource type ``"*"`` (see :func:`relaudit.org.account_gaps`) and the
    others go on.

    ``deadline`` (a ``time.monotonic()`` value) bounds collection: what is not collected by then
    becomes ``DeadlineExceeded`` coverage gaps and the run reports partial (see :func:`inventory`).

    With ``request.sinks`` the findings then go to Security Hub and/or the findings table
    (:mod:`relaudit.sinks.delivery`): ``sink_clients`` gives the table's factory and one factory per
    audited account (default: ``factory`` for the table, each account's own factory for its
    findings); ``delivery_options`` sets retries and clocks. ``run_id`` names the run (default: a
    new one); ``record_run=False`` publishes without writing a run record (an org item's run is
    recorded once, by the fan-out's last step).

    Raises:
        BadRequestError: The request names an unknown region or check.
        RelauditError: The account cannot be identified or its regions listed.
    """
    tune_malloc()  # before the pool's threads make their arenas
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    policy = BoundPolicy(request.config, catalog.checks)  # before any AWS call: a bad file is refused first
    if request.multi_account:
        checks = select_checks(catalog, request.checks)
        accounts = select_accounts(request, factory)
        members = members or member_factories(request, factory)
        planners = {account: _member_planner(request, catalog, account, members.get(account)) for account in accounts}
        evaluation = Evaluation(checks, policy)
        targets, gaps = inventory_accounts(
            planners, request.max_workers, evaluation.add, progress, deadline, request.regions
        )
    else:
        plan = make_plan(request, catalog, factory)
        accounts, checks, targets = [plan.account_id], plan.checks, [Target(plan, factory)]
        evaluation = Evaluation(checks, policy)
        gaps = inventory(plan, factory, request.max_workers, evaluation.add, progress, deadline)
    plans = [target.plan for target in targets]
    findings = evaluation.finish(gaps)
    gaps.sort(key=lambda g: (g.account_id, g.region, g.resource_type))
    summary = summarize(plans, findings, gaps, evaluation.resources, started, time.monotonic() - clock)
    summary.accounts, summary.checks = list(accounts), len(checks)
    summary.policy_notes = policy.notes
    summary.run_id = run_id or f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    # Not validated: built from validated parts, and validating would build every finding at once.
    result = AuditResult.model_construct(
        summary=summary, findings=findings, coverage_gaps=gaps, completed_scope=completed_scope(plans, gaps)
    )
    if request.sinks and request.table:
        own = {target.plan.account_id: target.factory for target in targets}
        from relaudit.sinks.delivery import SinkClients, deliver, finalize, publish  # only when publishing

        clients = sink_clients or SinkClients(table=factory, accounts=own)
        with ThreadPoolExecutor(max_workers=request.max_workers, thread_name_prefix="relaudit-sink") as pool:
            if not record_run:
                report = deliver(
                    result,
                    sinks=list(request.sinks),
                    table_name=request.table,
                    clients=clients,
                    run_id=summary.run_id,
                    options=delivery_options,
                    executor=pool,
                )
                return result.model_copy(update={"summary": finalize(summary, report, time.monotonic() - clock)})
            result = publish(
                result,
                sinks=list(request.sinks),
                table_name=request.table,
                clients=clients,
                check_ids=[check.definition.id for check in checks],
                elapsed=lambda: time.monotonic() - clock,
                options=delivery_options,
                executor=pool,
            )
    return result


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
