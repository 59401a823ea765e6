"""The organization fan-out's steps: list the items, audit one, record the run.

The Step Functions state machine (template.yaml, org mode) runs them: the list step's output is
the state a Distributed Map iterates over (``items``: one per (account, region), or, when a graph
check is selected, one per account over all its regions, region ``*``: the account's workload graph
spans them), each item is audited by :func:`audit_item` through the same engine
as the CLI (:func:`relaudit.run.audit`), and :func:`record_org_run` writes the run record from the
items' records. Each item records itself in the findings table (pk
``ORGRUN#<run id>``, sk ``ITEM#<account>#<region>``, TTL 30 days); an item whose Lambda failed
every retry is recorded by the state machine itself (``status`` failed, with the error).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from relaudit.aws import error_code
from relaudit.credentials import assume_now
from relaudit.errors import BadRequestError, RelauditError
from relaudit.events import ENV_PREFIX, is_scheduled, request_from_event
from relaudit.models.coverage import ALL, CoverageGap
from relaudit.models.org import ACCOUNT_ITEM, MAX_STATE_BYTES, FinalizeStep, ItemStep, ListStep, OrgPlan, OrgTarget
from relaudit.models.request import SECRET_FIELDS, AuditRequest, shown
from relaudit.org import MemberFactories, account_gaps, select_accounts
from relaudit.plan import Plan, make_plan, select_checks
from relaudit.policy.apply import BoundPolicy
from relaudit.policy.config import PolicyConfig
from relaudit.run import Accounts, Target, audit
from relaudit.sinks.asff import iso, parse_iso
from relaudit.sinks.dynamodb import FindingsTable, deserialize, serialize
from relaudit.sinks.record import ITEM_SORT_PREFIX, ItemTotals, item_partition, item_record, org_run_record
from relaudit.sinks.retry import DeliveryOptions, is_retryable

if TYPE_CHECKING:
    from collections.abc import Mapping

    from relaudit.aws import ClientFactory
    from relaudit.catalog.loader import Catalog

logger = logging.getLogger(__name__)

ITEM_TTL = dt.timedelta(days=30)
ITEM_NOT_RUN = "ItemNotRun"
ITEM_FAILED = "ItemFailed"
_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # field names and list indexes shown unquoted


Step = ListStep | ItemStep | FinalizeStep
_STEPS: dict[str, type[ListStep] | type[ItemStep] | type[FinalizeStep]] = {
    "list": ListStep,
    "item": ItemStep,
    "finalize": FinalizeStep,
}


def _bad_request(exc: ValidationError, prefix: str) -> BadRequestError:
    """A one-line error naming the field; never quoting a secret field's value."""
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    quote = first["type"] != "missing" and not isinstance(value, dict) and not (loc and loc[0] in SECRET_FIELDS)
    got = f" (got {shown(str(value))})" if quote else ""
    where = ".".join(part if _PLAIN.fullmatch(part) else shown(part) for part in loc) or "event"
    return BadRequestError(prefix + where, message + got)


def step_from_event(event: Any) -> Step:
    """The step payload the state machine sent (``step``: list, item or finalize), validated.

    Raises:
        BadRequestError: Not a step payload; names the field.
    """
    if not isinstance(event, dict):
        raise BadRequestError("event", f"must be a JSON object, got {type(event).__name__}")
    model = _STEPS.get(str(event.get("step")))
    if model is None:
        raise BadRequestError("step", f"must be one of {', '.join(_STEPS)} (got {shown(str(event.get('step')))})")
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        raise _bad_request(exc, "") from None


def _env_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(ENV_PREFIX + name, "").split(",") if item.strip())


def _env_number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(ENV_PREFIX + name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise BadRequestError(f"environment {ENV_PREFIX}{name}", f"must be a number from {low:g} to {high:g}")
    return value


@dataclass(frozen=True)
class OrgSettings:
    """The org fan-out's configuration, from the function's environment (template.yaml parameters).

    Attributes:
        role_name: RELAUDIT_MEMBER_ROLE, the role assumed in each member account.
        table: RELAUDIT_TABLE, the central findings table.
        external_id: RELAUDIT_EXTERNAL_ID, the ExternalId the member role requires (never shown).
        accounts: RELAUDIT_ORG_ACCOUNTS, an explicit account list (empty: the organization's).
        include: RELAUDIT_INCLUDE_ACCOUNTS. exclude: RELAUDIT_EXCLUDE_ACCOUNTS.
        max_concurrency: RELAUDIT_MAP_MAX_CONCURRENCY, items audited at once (0: no limit).
        tolerated_failure_percentage: RELAUDIT_MAP_TOLERATED_FAILURE_PERCENTAGE.
    """

    role_name: str
    table: str
    external_id: str | None = field(default=None, repr=False)
    accounts: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_concurrency: int = 40
    tolerated_failure_percentage: float = 100.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OrgSettings:
        """Read the settings.

        Raises:
            BadRequestError: A variable is missing or out of range; names it.
        """
        missing = [name for name in ("MEMBER_ROLE", "TABLE") if not env.get(ENV_PREFIX + name, "").strip()]
        if missing:
            raise BadRequestError(f"environment {ENV_PREFIX}{missing[0]}", "is required in org mode")
        return cls(
            role_name=env[ENV_PREFIX + "MEMBER_ROLE"].strip(),
            table=env[ENV_PREFIX + "TABLE"].strip(),
            external_id=env.get(ENV_PREFIX + "EXTERNAL_ID", "").strip() or None,
            accounts=_env_list(env, "ORG_ACCOUNTS"),
            include=_env_list(env, "INCLUDE_ACCOUNTS"),
            exclude=_env_list(env, "EXCLUDE_ACCOUNTS"),
            max_concurrency=int(_env_number(env, "MAP_MAX_CONCURRENCY", 40, 0, 10000)),
            tolerated_failure_percentage=_env_number(env, "MAP_TOLERATED_FAILURE_PERCENTAGE", 100.0, 0, 100),
        )

    def members(self, factory: ClientFactory) -> MemberFactories:
        """Client factories for the member accounts, on this role and external id."""
        return MemberFactories(factory, self.role_name, self.external_id)


def org_request(execution_input: Any, settings: OrgSettings, env: Mapping[str, str]) -> AuditRequest:
    """The org run's request: its scope from the execution's input, its accounts and role from the stack.

    A scheduled execution (the schedule's event) takes regions, checks and sinks from the
    environment, as the single-account function does; an on-demand execution's input is an
    AuditRequest's fields (``regions``, ``checks``, ``sinks``, ``accounts``, ``include_accounts``,
    ``exclude_accounts``). The role, external id and table are always the stack's.

    Raises:
        BadRequestError: The input or the environment is invalid; names the field.
    """
    if not isinstance(execution_input, dict):
        raise BadRequestError("input", f"must be a JSON object, got {type(execution_input).__name__}")
    if is_scheduled(execution_input):
        scope = request_from_event(execution_input, {**env, ENV_PREFIX + "TABLE": settings.table})
        data: dict[str, Any] = scope.model_dump(include={"regions", "checks", "sinks"})
    else:
        # The policy file too: the items read the deployed one (stack parameter ConfigParameter).
        fixed = sorted({"role_name", "external_id", "table", "config"} & execution_input.keys())
        if fixed:
            raise BadRequestError(f"input.{fixed[0]}", "is set by the stack, not by the execution input")
        data = dict(execution_input)
    if not data.get("accounts") and not data.get("org"):
        if settings.accounts:
            data["accounts"] = list(settings.accounts)
        else:
            data["org"] = True
    data.setdefault("include_accounts", list(settings.include))
    data.setdefault("exclude_accounts", list(settings.exclude))
    data.update(role_name=settings.role_name, external_id=settings.external_id, table=settings.table)
    try:
        return AuditRequest.model_validate(data)
    except ValidationError as exc:
        raise _bad_request(exc, "input.") from None


def org_run_id(execution_id: str, started: dt.datetime) -> str:
    """The org run's id: its start and a hash of the execution, so a retried list step keeps it."""
    digest = hashlib.sha256(execution_id.encode()).hexdigest()[:8]
    return f"{started.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-org-{digest}"


def plan_org_run(
    step: ListStep,
    request: AuditRequest,
    catalog: Catalog,
    factory: ClientFactory,
    members: MemberFactories,
    *,
    settings: OrgSettings,
) -> OrgPlan:
    """The list step: every item of the run (one per account with a graph check selected, else one
    per (account, region)), and the accounts that cannot be audited.

    Accounts come from Organizations (active only) or the request's list, narrowed by include and
    exclude. Each account is planned as a single-account run would be, on its own credentials
    (its enabled regions unless the request names regions); an account whose role cannot be
    assumed gets gaps and no items, the others go on.

    Raises:
        BadRequestError: The request names an unknown check or region, or leaves no account.
        RelauditError: The organization's accounts cannot be listed, or the items would not fit
            in Step Functions' 256 KiB state.
    """
    started = parse_iso(step.execution_start)
    selected = select_checks(catalog, request.checks)  # a bad check id fails here, not in every item
    # The workload graph spans an account's regions: with a graph check, each account is one item.
    per_account = any(check.definition.graph for check in selected)
    accounts = select_accounts(request, factory)
    factories = {account: members.get(account) for account in accounts}  # sessions made on this thread
    items: list[OrgTarget] = []
    gaps: list[CoverageGap] = []
    with ThreadPoolExecutor(max_workers=min(request.max_workers, len(accounts)), thread_name_prefix="relaudit") as pool:
        futures = {account: pool.submit(make_plan, request, catalog, f) for account, f in factories.items()}
        for account, future in futures.items():
            try:
                plan = future.result()
            except BadRequestError:
                raise
            except (RelauditError, ClientError, BotoCoreError) as exc:
                logger.warning("account not audited", extra={"account_id": account, "error": error_code(exc)})
                gaps.extend(account_gaps(account, request.regions, exc))
                continue
            if per_account and plan.regions:
                items.append(OrgTarget(account=account, region=ACCOUNT_ITEM, regions=list(plan.regions)))
            elif not per_account:
                items.extend(OrgTarget(account=account, region=region) for region in plan.regions)
    expires = started + ITEM_TTL
    org_plan = OrgPlan(
        run_id=org_run_id(step.execution_id, started),
        checks=request.checks,
        sinks=request.sinks,
        started_at=iso(started),
        accounts=accounts,
        regions=sorted({region for item in items for region in item.regions or [item.region]} | set(request.regions)),
        items=items,
        gaps=gaps,
        max_concurrency=settings.max_concurrency,
        tolerated_failure_percentage=settings.tolerated_failure_percentage,
        expires_at=int(expires.timestamp()),
    )
    size = len(org_plan.model_dump_json())
    if size > MAX_STATE_BYTES * 0.9:
        raise RelauditError(
            f"{len(items)} items need {size} bytes, over 90% of Step Functions' "
            f"{MAX_STATE_BYTES}-byte state: narrow the run (regions, include or exclude accounts)"
        )
    logger.info("org run planned", extra={"run_id": org_plan.run_id, "accounts": len(accounts), "items": len(items)})
    return org_plan


def _put(client: Any, table: str, item: dict[str, Any], options: DeliveryOptions) -> None:
    """PutItem with retries of throttling and server errors."""
    attempt = 0
    while True:
        attempt += 1
        try:
            client.put_item(TableName=table, Item=serialize(item))
            return
        except (ClientError, BotoCoreError) as exc:
            if not is_retryable(exc, error_code(exc)) or attempt >= options.max_attempts:
                raise
            options.sleep(options.backoff(attempt))


def audit_item(
    step: ItemStep,
    catalog: Catalog,
    factory: ClientFactory,
    members: MemberFactories,
    table: str,
    deadline: float | None = None,
    options: DeliveryOptions | None = None,
    config: PolicyConfig | None = None,
) -> dict[str, Any]:
    """The item step: audit one account in one region (or, an account item, in all the regions it
    lists) and record the item.

    The item goes straight to the audit engine (:func:`relaudit.run.audit`) with its scopes: no
    planning again (the list step identified the account and its
    regions), no run record (the last step writes the org run's). The account's role is assumed
    (refused: a gap for this item only); its findings go to its own Security Hub with its own
    credentials and to the central findings table.

    Args:
        step: The Map item (run id, account, region, checks, sinks).
        catalog: The checks.
        factory: The auditor account's clients (the findings table).
        members: Member accounts' clients (the role and external id of the stack).
        table: The findings table.
        deadline: A ``time.monotonic()`` value by which collection stops (the Lambda's time left).
        options: Retries and clocks of the sinks and of the item record.
        config: The deployed policy file (relaudit.policy.source), as the single-account function applies it.

    Returns:
        A small result for the Map (the state machine keeps only ``status``): status, account,
        region and the number of coverage gaps.
    """
    target = step.target()
    regions = target.regions if target.is_account_item else [target.region]
    checks = select_checks(catalog, step.checks)
    request = AuditRequest(
        regions=regions,
        checks=step.checks,
        sinks=step.sinks,
        table=table,
        config=config or PolicyConfig(),
    )
    member = members.get(target.account)

    def plan_item() -> Target:
        # The list step planned the account already (its identity and regions): assume its role
        # now, so a refusal is one gap per region of this item rather than one per unit.
        assume_now(member.session)
        return Target(Plan(target.account, members.partition, tuple(regions), checks), member)

    result = audit(
        request,
        checks,
        BoundPolicy(request.config, catalog.checks),
        Accounts([target.account], planners={target.account: plan_item}),
        factory,
        deadline=deadline,
        delivery_options=options,
        run_id=step.run_id,
    )
    _put(factory.writer("dynamodb"), table, item_record(step, result), options or DeliveryOptions())
    return {
        "status": result.summary.result,
        "account": target.account,
        "region": target.region,
        "coverage_gaps": len(result.coverage_gaps),
    }


def read_item_records(client: Any, table: str, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item record of one org run, by (account, region)."""
    records: dict[tuple[str, str], dict[str, Any]] = {}
    pages = client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues=serialize({":p": item_partition(run_id), ":s": ITEM_SORT_PREFIX}),
        ConsistentRead=True,
    )
    for page in pages:
        for raw in page.get("Items", []):
            record = deserialize(raw)
            records[(str(record.get("account_id")), str(record.get("region")))] = record
    return records


def _gap(account: str, region: str, code: str, message: str) -> CoverageGap:
    return CoverageGap(account_id=account, region=region, resource_type=ALL, error_code=code, message=message[:1000])


def _failed_item_gap(target: OrgTarget, record: dict[str, Any]) -> CoverageGap:
    cause = str(record.get("cause") or record.get("message") or "")
    try:  # Lambda's error cause is JSON: {"errorMessage": ..., "errorType": ...}
        parsed = json.loads(cause)
        cause = str(parsed.get("errorMessage") or cause) if isinstance(parsed, dict) else cause
    except ValueError:
        pass
    message = f"item failed after retries: {record.get('error') or 'unknown error'}: {cause}"
    return _gap(target.account, target.region, str(record.get("error") or ITEM_FAILED), message)


def _not_run_gap(target: OrgTarget, map_error: dict[str, Any] | None) -> CoverageGap:
    why = f"the Map run ended early ({map_error.get('Error', 'error')})" if map_error else "no record of this item"
    return _gap(target.account, target.region, ITEM_NOT_RUN, f"item not audited: {why}")


def record_org_run(
    step: FinalizeStep,
    factory: ClientFactory,
    table: str,
    check_ids: list[str],
    options: DeliveryOptions | None = None,
) -> dict[str, Any]:
    """The last step: add up the items' records and write the org run's record in the findings table.

    Every planned item is either recorded by itself (complete or partial), recorded as failed by
    the state machine, or missing (the Map stopped first): the last two become gaps
    ``(account, region, "*")``. The run is partial when anything was not read or not delivered.

    Returns:
        The run record as written, its gap list cut to the first 20 (the table keeps 200).
    """
    options = options or DeliveryOptions()
    client = factory.client("dynamodb")
    records = read_item_records(client, table, step.run_id)
    totals = ItemTotals()
    for gap in step.gaps:
        totals.add_gap(gap)
    for target in step.items:
        found = records.get((target.account, target.region))
        if found is None:
            totals.items["not_run"] += 1
            totals.add_gap(_not_run_gap(target, step.map_error))
        elif found.get("status") == "failed":
            totals.items["failed"] += 1
            totals.add_gap(_failed_item_gap(target, found))
        else:
            totals.add_record(found)
    record = org_run_record(step, totals, check_ids, options.clock())
    FindingsTable(client, table, options, writer=factory.writer("dynamodb")).put_run(record)
    logger.info("org run recorded", extra={"run_id": step.run_id, "result": record["result"]})
    return {**record, "coverage_gaps": record["coverage_gaps"][:20]}
