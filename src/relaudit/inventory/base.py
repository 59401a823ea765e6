"""What a collector is: its context, its protocol, and helpers every collector shares."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from relaudit.models.resource import UNAVAILABLE, ResourceDocument

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator

T = TypeVar("T")
R = TypeVar("R")

# Fields a collector computes from a join's result besides the one it names when that join fails
# (it names one field per join): they are unknown too. A collector may instead name every field
# itself, ``ctx.enrichment_failed(("A", "B"), exc)``; this table then needs no entry.
DERIVED_FIELDS: dict[str, frozenset[str]] = {
    "DeadLetterSources": frozenset({"IsDeadLetterQueue"}),  # sqs_queue: no queue redrives here, so unknown
    "ConsumerFunctions": frozenset({"ConsumerTimeoutMultiple"}),  # sqs_queue
    "PeakConcurrentExecutions": frozenset({"PeakConcurrencyPercent"}),  # lambda_account_settings
    "PeakUsage": frozenset({"UsagePercent"}),  # servicequotas_service_quota
    "LambdaIntegrations": frozenset({"FunctionTimeoutInMillis"}),  # apigateway(v2)_stage
}


def sequential_map(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
    """Apply ``fn`` to each item in turn (CollectorContext.map when no pool is given, as in tests)."""
    return map(fn, items)


class _Entry:
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None


class SharedLookups:
    """Lookups several collectors of one (account, region) make, each made once per run.

    ListFunctions, DescribeAlarms, a REST API's stages, a function's event-invoke configs...
    are read by more than one collector (the Lambda collector and the SQS dead-letter join, the
    stage and the account collectors). The first caller of a key runs its loader; callers of
    the same key meanwhile wait for that result instead of calling AWS again. A loader's error
    is kept and raised to every caller, so each unit reports it as its own gap.

    Values are shared between threads and collectors: callers must not modify them.
    """

    def __init__(self) -> None:
        # One condition for every key, not an Event per entry: a region's per-function keys number
        # in the thousands (an Event is about 1 KB), and a caller seldom has to wait.
        self._finished = threading.Condition()
        self._entries: dict[Hashable, _Entry] = {}

    def get(self, key: Hashable, loader: Callable[[], T]) -> T:
        """``loader()``'s result for ``key``, running it only if no caller ran it before."""
        with self._finished:
            entry = self._entries.get(key)
            owner = entry is None
            if entry is None:
                entry = self._entries[key] = _Entry()
        if owner:
            try:
                entry.value = loader()
            except BaseException as exc:
                entry.error = exc
            finally:
                with self._finished:
                    entry.done = True
                    self._finished.notify_all()
        else:
            with self._finished:
                self._finished.wait_for(lambda: entry.done)
        if entry.error is not None:
            raise entry.error
        value: T = entry.value
        return value

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class CollectorContext:
    """Where a collector runs: one account, one region, and a client factory bound to them."""

    account_id: str
    region: str
    client: Callable[[str], Any]
    partition: str = "aws"
    page_size: int | None = None  # None: each API's default; tests set 2 to cross page boundaries
    needs: frozenset[str] | None = None  # fields the selected checks read; None means all

    # Fields whose join failed for the whole unit, as (field, error); see enrichment_failed.
    incomplete: list[tuple[str, Exception]] = field(default_factory=list, compare=False, repr=False)
    # How map() runs per-resource calls: in order here; run.py gives a bounded window on a shared
    # pool, so a unit with thousands of resources is bound by its API's rate, not by round trips.
    mapper: Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]] = field(
        default=sequential_map, compare=False, repr=False
    )
    # Lookups shared with the other collectors of this account and region (run.py gives each
    # (account, region) one; a context made alone, as in tests, shares with nobody).
    lookups: SharedLookups = field(default_factory=SharedLookups, compare=False, repr=False)

    def wants(self, field: str) -> bool:
        """Whether a selected check reads ``field``: collectors skip enrichment calls nobody reads."""
        return self.needs is None or field in self.needs

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(item)`` for every item, in order, possibly several at a time.

        For per-resource enrichment (one or more API calls per resource): ``fn`` must touch only
        its item, ``self.client``, ``self.shared`` and ``self.enrichment_failed``, which are
        thread-safe.
        """
        results: Iterator[R] = self.mapper(fn, items)
        return results

    def shared(self, key: Hashable, loader: Callable[[], T]) -> T:
        """``loader()``, made once per run for this account and region whichever collector asks
        first (see :class:`SharedLookups`); ``key`` names the lookup, e.g. ``("lambda", "functions")``."""
        return self.lookups.get(key, loader)

    def enrichment_failed(self, fields: str | Iterable[str], error: Exception) -> None:
        """Record that a join failed for the whole unit, naming the document field(s) it fills.

        The collector goes on and leaves those fields out of its documents. The run reports one
        coverage gap naming the fields and makes UNKNOWN, in this account and region, exactly the
        checks that read one of them (with the fields :data:`DERIVED_FIELDS` computes from the
        same join); every other check of the type is judged and reconciled as usual.
        """
        for name in [fields] if isinstance(fields, str) else sorted(fields):
            self.incomplete.append((name, error))


@dataclass(frozen=True)
class FailedJoin:
    """A join that failed for a whole collection unit: every field it fills, and why."""

    fields: frozenset[str]
    error: Exception


def failed_joins(incomplete: Iterable[tuple[str, Exception]]) -> list[FailedJoin]:
    """``CollectorContext.incomplete`` as one failure per join, derived fields added.

    A per-resource join failing on many resources counts once, with its first error; fields
    recorded together (one error) are one join.
    """
    first: dict[str, Exception] = {}
    for name, error in incomplete:
        first.setdefault(name, error)
    grouped: dict[int, tuple[set[str], Exception]] = {}
    for name, error in first.items():
        names, _ = grouped.setdefault(id(error), (set(), error))
        names |= {name, *DERIVED_FIELDS.get(name, frozenset())}
    return [FailedJoin(frozenset(names), error) for names, error in grouped.values()]


class IncompleteUnitError(Exception):
    """A collector finished, but some joins failed: carries the documents and the failed joins."""

    def __init__(self, documents: list[ResourceDocument], incomplete: list[tuple[str, Exception]]) -> None:
        self.field_name, self.cause = incomplete[0]
        self.joins = failed_joins(incomplete)
        fields = ", ".join(sorted({name for join in self.joins for name in join.fields}))
        super().__init__(f"collected without {fields}: {self.cause}")
        self.documents = documents


def mark_unavailable(properties: dict[str, Any], field_name: str, reason: str) -> None:
    """Record in one resource's ``properties`` that ``field_name`` could not be read, and why.

    For a failure of one resource's call (a state machine whose KMS key refuses the audit role):
    checks reading ``field_name`` are UNKNOWN for this resource only.
    """
    properties.setdefault(UNAVAILABLE, {})[field_name] = reason


class Collector(Protocol):
    """A module registered in ``relaudit.inventory.COLLECTORS``."""

    RESOURCE_TYPE: str
    IAM_ACTIONS: frozenset[str]

    def collect(self, ctx: CollectorContext) -> Iterator[ResourceDocument]:
        """Yield one document per resource of this type in ctx's account and region."""
        ...


def json_safe(value: Any) -> Any:
    """Convert an API response to plain JSON types (datetimes to ISO 8601, bytes dropped)."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items() if key != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return None
    return value


def paginate(client: Any, operation: str, key: str, page_size: int | None = None, **kwargs: Any) -> Iterator[Any]:
    """Yield every item under ``key`` across all pages of ``operation``."""
    if page_size is not None:
        kwargs["PaginationConfig"] = {"PageSize": page_size}
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key) or []


def document(
    ctx: CollectorContext, resource_type: str, arn: str, name: str, properties: dict[str, Any]
) -> ResourceDocument:
    """Wrap properties in the envelope every resource document carries."""
    return ResourceDocument(
        account_id=ctx.account_id,
        region=ctx.region,
        resource_type=resource_type,
        arn=arn,
        name=name,
        properties=json_safe(properties),
    )


def typed_attributes(attributes: dict[str, str], json_keys: tuple[str, ...], numbers: bool) -> dict[str, Any]:
    """Type an SQS/SNS-style string attribute map: JSON documents parsed, "true"/"false" as booleans,
    and (with ``numbers``) digit strings as integers; anything unparsable stays a string."""
    typed: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in json_keys:
            try:
                typed[key] = json.loads(value)
            except ValueError:
                typed[key] = value
        elif numbers and value.isdigit():
            typed[key] = int(value)
        elif value in ("true", "false"):
            typed[key] = value == "true"
        else:
            typed[key] = value
    return typed
