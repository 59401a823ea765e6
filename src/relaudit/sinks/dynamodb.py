"""The DynamoDB findings table: lifecycle state, history with a TTL, run records, and its queries.

Item layout (keys from :mod:`relaudit.sinks.table_schema`):

- current finding: pk ``FINDING#<id>``, sk ``CURRENT``; by-scope gsi1pk ``SCOPE#<account>#<region>``,
  gsi1sk ``<check_id>#<id>``; by-status gsi2pk ``STATUS#<PASSED|FAILED|NOT_APPLICABLE|UNKNOWN|ARCHIVED>``,
  gsi2sk ``<severity rank>#<account>#<region>#<check_id>#<id>``. Written with PutItem conditional on
  ``updated_at`` (an older writer never overwrites a newer state), so re-runs are idempotent.
- history event (a status transition): pk ``FINDING#<id>``, sk ``HIST#<time>#<event>``; gsi1pk
  ``RESOURCE#<arn>`` (one resource's history), gsi2pk ``RUN#<run_id>`` (what a run changed);
  ``expires_at`` TTL.
- run record: pk ``RUN#<run_id>``, sk ``RUN``; gsi1pk ``RUNS``, gsi1sk ``<recorded at>#<run_id>``
  (latest runs first); ``expires_at`` TTL.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from relaudit.aws import error_code
from relaudit.errors import RelauditError
from relaudit.models.check import Status
from relaudit.models.finding import Finding, SinkReport
from relaudit.sinks import table_schema
from relaudit.sinks.asff import iso, parse_iso
from relaudit.sinks.base import Tally
from relaudit.sinks.lifecycle import HistoryEvent, StoredFinding, acknowledged
from relaudit.sinks.retry import DeliveryOptions, is_retryable

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from concurrent.futures import Executor

    from relaudit.sinks.base import Batch

logger = logging.getLogger(__name__)

# What the sinks call at run time (the Lambda role needs exactly these on the table and its indexes).
IAM_ACTIONS = frozenset({"dynamodb:Query", "dynamodb:PutItem", "dynamodb:BatchWriteItem"})
# What `relaudit audit --create-table` calls in addition (CLI only; the SAM template creates its table).
TABLE_ADMIN_ACTIONS = frozenset(
    {"dynamodb:DescribeTable", "dynamodb:CreateTable", "dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups"}
)
MAX_BATCH_WRITE = 25
_KEY_BYTES = 1000  # GSI sort keys allow 1024 bytes; long ARNs are hashed into the key
_FINDING_FIELDS = tuple(Finding.model_fields)
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _bounded_key(prefix: str, value: str) -> str:
    key = prefix + value
    if len(key.encode()) <= _KEY_BYTES:
        return key
    return f"{prefix}sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def _ddb(value: Any) -> Any:
    """Python value -> DynamoDB-safe (floats become Decimals, None map values dropped)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {str(k): _ddb(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_ddb(v) for v in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """A plain item -> DynamoDB attribute values (None attributes left out)."""
    return {key: _SERIALIZER.serialize(_ddb(value)) for key, value in item.items() if value is not None}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> a plain item (numbers as int when whole)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {key: plain(_DESERIALIZER.deserialize(value)) for key, value in item.items()}


def _epoch(moment: str, ttl: dt.timedelta) -> int:
    return int((parse_iso(moment) + ttl).timestamp())


def finding_key(finding_id: str) -> dict[str, Any]:
    """The primary key of a finding's current item."""
    return serialize({"pk": f"FINDING#{finding_id}", "sk": "CURRENT"})


def current_item(state: StoredFinding, archived_ttl: dt.timedelta) -> dict[str, Any]:
    """The table item (plain) for a finding's current state."""
    f = state.finding
    status_key = f.status.value if state.record_state == "ACTIVE" else "ARCHIVED"
    item: dict[str, Any] = {
        "pk": f"FINDING#{f.id}",
        "sk": "CURRENT",
        "item_type": "FINDING",
        "gsi1pk": f"SCOPE#{f.account_id}#{f.region}",
        "gsi1sk": f"{f.check_id}#{f.id}",
        "gsi2pk": f"STATUS#{status_key}",
        "gsi2sk": f"{f.severity.rank}#{f.account_id}#{f.region}#{f.check_id}#{f.id}",
        **f.model_dump(mode="json"),
        "references": f.references.model_dump(exclude_none=True),
        "record_state": state.record_state,
        "first_seen": state.first_seen,
        "last_seen": state.last_seen,
        "status_changed_at": state.status_changed_at,
        "updated_at": state.updated_at,
        "run_id": state.run_id,
        "resolved_at": state.resolved_at,
        "archived_at": state.archived_at,
        "sh_hash": state.sh_hash,
        "sh_record_state": state.sh_record_state,
        "sh_synced_at": state.sh_synced_at,
        "sh_workflow": state.sh_workflow,
    }
    if state.record_state == "ARCHIVED" and state.archived_at:
        item[table_schema.TTL_ATTRIBUTE] = _epoch(state.archived_at, archived_ttl)
    return item


def stored_finding(item: dict[str, Any]) -> StoredFinding:
    """A plain current item -> StoredFinding.

    Raises:
        ValueError: The item is not a valid current-finding item.
    """
    try:
        # An optional field (a graph finding's path; suppression, tier) is absent from items written
        # without it, or before it existed.
        finding = Finding.model_validate({name: item[name] for name in _FINDING_FIELDS if name in item})
    except ValidationError as exc:
        raise ValueError(f"not a finding item: {exc}") from exc
    return StoredFinding(
        finding=finding,
        record_state=item["record_state"],
        first_seen=item["first_seen"],
        last_seen=item["last_seen"],
        status_changed_at=item.get("status_changed_at") or item["last_seen"],
        updated_at=item["updated_at"],
        run_id=item.get("run_id", ""),
        resolved_at=item.get("resolved_at"),
        archived_at=item.get("archived_at"),
        sh_hash=item.get("sh_hash"),
        sh_record_state=item.get("sh_record_state"),
        sh_synced_at=item.get("sh_synced_at"),
        sh_workflow=item.get("sh_workflow"),
    )


def history_item(event: HistoryEvent, history_ttl: dt.timedelta) -> dict[str, Any]:
    """The table item (plain) for one status transition."""
    f = event.finding
    return {
        "pk": f"FINDING#{f.id}",
        "sk": f"HIST#{event.at}#{event.event}",
        "item_type": "HISTORY",
        "gsi1pk": _bounded_key("RESOURCE#", f.resource_arn),
        "gsi1sk": f"{event.at}#{f.check_id}",
        "gsi2pk": f"RUN#{event.run_id}",
        "gsi2sk": f.id,
        "finding_id": f.id,
        "event": event.event,
        "at": event.at,
        "status": event.status.value,
        "previous_status": event.previous_status.value if event.previous_status else None,
        "record_state": event.record_state,
        "run_id": event.run_id,
        "account_id": f.account_id,
        "region": f.region,
        "check_id": f.check_id,
        "severity": f.severity.value,
        "resource_arn": f.resource_arn,
        "resource_name": f.resource_name,
        "reason": f.reason if event.status is Status.UNKNOWN else None,  # which input was missing, and why
        # Who suppressed it (config or tag), why and until when; the tier it was judged under.
        "suppression": f.suppression.model_dump(mode="json") if f.suppression else None,
        "tier": f.tier,
        table_schema.TTL_ATTRIBUTE: _epoch(event.at, history_ttl),
    }


@dataclass
class WriteOutcome:
    """What happened to each write: ids written, superseded by a newer writer, or failed (code)."""

    written: set[str] = field(default_factory=set)
    superseded: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)


class FindingsTable:
    """One findings table, through one DynamoDB client (the auditor's account and region)."""

    def __init__(self, client: Any, name: str, options: DeliveryOptions | None = None, writer: Any = None) -> None:
        """Read with ``client``; write with ``writer`` (default ``client``): give a client without
        botocore retries (ClientFactory.writer), since every write here retries itself."""
        self.client = client
        self._writer = writer if writer is not None else client
        self.name = name
        self.options = options or DeliveryOptions()
        self._meter_lock = threading.Lock()
        self.calls = 0  # Query pages, PutItem and BatchWriteItem calls made through this table
        self.write_units = 0.0  # write capacity units they consumed, as DynamoDB reports them

    def _metered(self, response: Any) -> Any:
        consumed = response.get("ConsumedCapacity") if isinstance(response, dict) else None
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        units = sum(float(entry.get("CapacityUnits") or 0) for entry in entries)
        with self._meter_lock:
            self.calls += 1
            self.write_units += units
        return response

    # --- reads -----------------------------------------------------------------------------------

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(TableName=self.name, **kwargs):
            self._metered(None)
            for item in page.get("Items", []):
                yield deserialize(item)

    def load_scope(self, account_id: str, region: str, check_id: str | None = None) -> list[StoredFinding]:
        """Every stored finding (active or archived) of one account and region, or of one check there.

        Raises:
            ClientError, BotoCoreError: The table cannot be read (the caller reports it).
        """
        stored: list[StoredFinding] = []
        condition = "gsi1pk = :p"
        values = {":p": f"SCOPE#{account_id}#{region}"}
        if check_id is not None:
            condition += " AND begins_with(gsi1sk, :c)"
            values[":c"] = f"{check_id}#"
        for item in self._query(
            IndexName=table_schema.GSI_BY_SCOPE,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=serialize(values),
        ):
            try:
                stored.append(stored_finding(item))
            except ValueError as exc:
                logger.warning("unreadable finding item skipped", extra={"pk": item.get("pk"), "error": str(exc)})
        return stored

    def current(self, account_id: str, region: str, check_id: str | None = None) -> list[dict[str, Any]]:
        """Current findings of one account and region (optionally one check), archived ones included."""
        condition = "gsi1pk = :p"
        values = {":p": f"SCOPE#{account_id}#{region}"}
        if check_id:
            condition += " AND begins_with(gsi1sk, :c)"
            values[":c"] = f"{check_id}#"
        return list(
            self._query(
                IndexName=table_schema.GSI_BY_SCOPE,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=serialize(values),
            )
        )

    def by_status(self, status: str, min_rank: int | None = None) -> list[dict[str, Any]]:
        """Current findings with ``status`` (PASSED, FAILED, NOT_APPLICABLE, UNKNOWN or ARCHIVED), most severe first."""
        condition = "gsi2pk = :p"
        values = {":p": f"STATUS#{status}"}
        if min_rank is not None:
            condition += " AND gsi2sk >= :r"
            values[":r"] = f"{min_rank}#"
        return list(
            self._query(
                IndexName=table_schema.GSI_BY_STATUS,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=serialize(values),
                ScanIndexForward=False,
            )
        )

    def finding_history(self, finding_id: str) -> list[dict[str, Any]]:
        """One finding's transitions, oldest first."""
        return list(
            self._query(
                KeyConditionExpression="pk = :p AND begins_with(sk, :h)",
                ExpressionAttributeValues=serialize({":p": f"FINDING#{finding_id}", ":h": "HIST#"}),
                ConsistentRead=True,
            )
        )

    def resource_history(self, resource_arn: str) -> list[dict[str, Any]]:
        """Every check's transitions for one resource, oldest first."""
        return list(
            self._query(
                IndexName=table_schema.GSI_BY_SCOPE,
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues=serialize({":p": _bounded_key("RESOURCE#", resource_arn)}),
            )
        )

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest run records, newest first."""
        response = self.client.query(
            TableName=self.name,
            IndexName=table_schema.GSI_BY_SCOPE,
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues=serialize({":p": "RUNS"}),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [deserialize(item) for item in response.get("Items", [])]

    def changes(self, run_id: str) -> list[dict[str, Any]]:
        """What one run changed: its history events (new, status changed, archived, reappeared)."""
        return list(
            self._query(
                IndexName=table_schema.GSI_BY_STATUS,
                KeyConditionExpression="gsi2pk = :p",
                ExpressionAttributeValues=serialize({":p": f"RUN#{run_id}"}),
            )
        )

    # --- writes ----------------------------------------------------------------------------------

    def _retrying(self, what: str, call: Callable[[], Any]) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except (ClientError, BotoCoreError) as exc:
                code = error_code(exc)
                retryable = is_retryable(exc, code)
                if not retryable or attempt >= self.options.max_attempts:
                    raise
                logger.info("retrying write", extra={"what": what, "error": code, "attempt": attempt})
                self.options.sleep(self.options.backoff(attempt))

    def put_current(self, state: StoredFinding) -> str | None:
        """Upsert one finding's current item unless a newer state is stored.

        Returns:
            None when written, ``"superseded"`` when the stored item is newer, else an error code.
        """
        try:
            item = serialize(current_item(state, self.options.archived_ttl))
        except (TypeError, ValueError) as exc:  # a value DynamoDB cannot hold: report it, do not crash the run
            logger.error("finding not serializable", extra={"finding_id": state.finding.id, "error": str(exc)})
            return "SerializationError"

        def put() -> Any:
            return self._metered(
                self._writer.put_item(
                    TableName=self.name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(pk) OR updated_at < :u",
                    ExpressionAttributeValues=serialize({":u": state.updated_at}),
                    ReturnConsumedCapacity="TOTAL",
                )
            )

        try:
            self._retrying(state.finding.id, put)
        except (ClientError, BotoCoreError) as exc:
            code = error_code(exc)
            if code == "ConditionalCheckFailedException":
                return "superseded"
            logger.error("finding not written", extra={"finding_id": state.finding.id, "error": code})
            return code
        return None

    def put_findings(self, states: Sequence[StoredFinding], executor: Executor | None = None) -> WriteOutcome:
        """Upsert many current items (concurrently when given an executor)."""
        outcome = WriteOutcome()
        results = executor.map(self.put_current, states) if executor else map(self.put_current, states)
        for state, result in zip(states, results, strict=True):
            if result is None:
                outcome.written.add(state.finding.id)
            elif result == "superseded":
                outcome.superseded.add(state.finding.id)
            else:
                outcome.failed[state.finding.id] = result
        return outcome

    def write_history(self, events: Iterable[HistoryEvent]) -> WriteOutcome:
        """Write history items with BatchWriteItem (25 at a time), retrying UnprocessedItems with backoff."""
        outcome = WriteOutcome()
        items = []
        for event in events:
            try:
                items.append((event.finding.id, serialize(history_item(event, self.options.history_ttl))))
            except (TypeError, ValueError) as exc:
                logger.error("history not serializable", extra={"finding_id": event.finding.id, "error": str(exc)})
                outcome.failed[event.finding.id] = "SerializationError"
        for start in range(0, len(items), MAX_BATCH_WRITE):
            chunk = items[start : start + MAX_BATCH_WRITE]
            self._write_chunk(chunk, outcome)
        return outcome

    def _write_chunk(self, chunk: list[tuple[str, dict[str, Any]]], outcome: WriteOutcome) -> None:
        def key_of(item: dict[str, Any]) -> tuple[str, str]:
            return (item["pk"]["S"], item["sk"]["S"])

        owner = {key_of(item): finding_id for finding_id, item in chunk}
        pending = [item for _, item in chunk]
        attempt = 0
        while pending:
            attempt += 1
            try:
                response = self._metered(
                    self._writer.batch_write_item(
                        RequestItems={self.name: [{"PutRequest": {"Item": item}} for item in pending]},
                        ReturnConsumedCapacity="TOTAL",
                    )
                )
            except (ClientError, BotoCoreError) as exc:
                code = error_code(exc)
                retryable = is_retryable(exc, code)
                if retryable and attempt < self.options.max_attempts:
                    self.options.sleep(self.options.backoff(attempt))
                    continue
                logger.error("history not written", extra={"error": code, "items": len(pending)})
                for item in pending:
                    outcome.failed[owner[key_of(item)]] = code
                return
            unprocessed = [
                request["PutRequest"]["Item"] for request in response.get("UnprocessedItems", {}).get(self.name, [])
            ]
            left = {key_of(item) for item in unprocessed}
            outcome.written.update(owner[key_of(item)] for item in pending if key_of(item) not in left)
            pending = unprocessed
            if pending:
                if attempt >= self.options.max_attempts:
                    logger.error("history items left unprocessed", extra={"items": len(pending)})
                    for item in pending:
                        outcome.failed[owner[key_of(item)]] = "UnprocessedItems"
                    return
                self.options.sleep(self.options.backoff(attempt))

    def put_run(self, record: dict[str, Any]) -> None:
        """Write a run record (``run_id`` required); it sorts by when it is recorded.

        Raises:
            ClientError, BotoCoreError: After retries.
        """
        recorded_at = iso(self.options.clock())
        item = {
            "pk": f"RUN#{record['run_id']}",
            "sk": "RUN",
            "item_type": "RUN",
            "gsi1pk": "RUNS",
            "gsi1sk": f"{recorded_at}#{record['run_id']}",
            "recorded_at": recorded_at,
            **record,
            table_schema.TTL_ATTRIBUTE: _epoch(recorded_at, self.options.history_ttl),
        }
        serialized = serialize(item)
        self._retrying(f"run {record['run_id']}", lambda: self._writer.put_item(TableName=self.name, Item=serialized))


def ensure_table(client: Any, name: str) -> bool:
    """Create the findings table (the schema template.yaml declares) if it is missing, with TTL and PITR.

    Returns:
        True if the table was created, False if it already existed with the expected keys.

    Raises:
        RelauditError: The table exists with another key schema, or cannot be created.
    """
    try:
        table = client.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise RelauditError(f"cannot read table {name}: {exc}") from exc
    else:
        indexes = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
        wanted = {index["IndexName"] for index in table_schema.GLOBAL_SECONDARY_INDEXES}
        if table["KeySchema"] != table_schema.KEY_SCHEMA or not wanted <= indexes:
            raise RelauditError(f"table {name} exists but is not a relaudit findings table (keys or indexes differ)")
        return False
    try:
        client.create_table(**table_schema.create_table_kwargs(name))
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table_schema.TTL_ATTRIBUTE},
        )
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    except (ClientError, BotoCoreError) as exc:
        raise RelauditError(f"cannot create table {name}: {exc}") from exc
    logger.info("created findings table", extra={"table": name})
    return True


class TableSink(Tally):
    """The findings table as a sink: history events, then the current items (with Security Hub's acks).

    Always the last sink of a run: it records what the sinks before it acknowledged.
    """

    name = "dynamodb"

    def __init__(self, table: FindingsTable, executor: Executor | None = None) -> None:
        """Write to ``table``; ``executor`` runs a batch's item writes concurrently."""
        super().__init__()
        self.table = table
        self._executor = executor

    def publish(self, batch: Batch) -> None:
        """Write the batch's history events and the current items that changed."""
        to_store: list[StoredFinding] = []
        for t in batch.transitions:
            if t.asff is not None and t.finding_id in batch.acknowledged:
                to_store.append(acknowledged(t, batch.at))
            elif t.write:
                to_store.append(t.state)
        to_store = batch.workflow.stored(to_store)
        history = self.table.write_history(t.event for t in batch.transitions if t.event is not None)
        writes = self.table.put_findings(to_store, self._executor)
        failed = {**history.failed, **writes.failed}
        archived = {t.finding_id for t in batch.transitions if t.event is not None and t.event.event == "ARCHIVED"}
        with self._lock:
            self._counts.update(
                delivered=len(writes.written),
                archived=len((archived & writes.written) - failed.keys()),
                history=len(history.written),
                superseded=len(writes.superseded),
                unknown=sum(1 for f in batch.findings if f.status is Status.UNKNOWN),
            )
            self._failed.update(failed)
            self._errors.update(failed.values())

    def lost(self, findings: Sequence[Finding], code: str) -> None:
        """Findings whose state could not be read: none of them is written."""
        self._lose([f.id for f in findings], code)

    def report(self) -> SinkReport:
        """What the table got over the whole run (calls and write units include the state reads)."""
        with self._lock:
            return SinkReport(
                sink="dynamodb",
                **{key: self._counts[key] for key in ("delivered", "archived", "history", "superseded", "unknown")},
                undelivered=len(self._failed),
                errors=dict(self._errors),
                notes=list(self._notes),
                calls=self.table.calls,
                write_units=round(self.table.write_units, 1),
            )
