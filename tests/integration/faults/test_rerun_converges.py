"""A run killed midway through writing the findings table, then run again, ends where a clean run ends.

"Killed" is a BaseException raised from a botocore hook on the Nth BatchWriteItem (history items,
written first), either before the call (the batch never sent) or after it (written, but the run
died before learning so): nothing in relaudit catches it, like a process kill or a Lambda timeout.
The table lives in a region no other test audits, in the package's moto account.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import boto3
import pytest

from relaudit.aws import ClientFactory, client_config
from relaudit.models.request import AuditRequest
from relaudit.run import run
from relaudit.sinks.delivery import SinkClients
from relaudit.sinks.dynamodb import deserialize, ensure_table
from relaudit.sinks.retry import DeliveryOptions
from tests.integration.faults.conftest import ACCOUNT, REGIONS

TABLE_REGION = "ap-southeast-2"
# Attributes that carry the time or id of the run that wrote them: equal state, different values.
VOLATILE = {
    "first_seen",
    "last_seen",
    "status_changed_at",
    "updated_at",
    "run_id",
    "sh_synced_at",
    "resolved_at",
    "archived_at",
    "expires_at",
}


class KilledError(BaseException):
    """The process died here (BaseException: no ``except Exception`` in the code under test stops it)."""


def table_factory(kill_on: str | None = None, after: int = 0) -> ClientFactory:
    """A factory for the findings table whose BatchWriteItem number ``after`` + 1 kills the run."""
    session = boto3.session.Session(region_name=TABLE_REGION)
    if kill_on is not None:
        calls = Counter[str]()

        def kill(**_: Any) -> None:
            calls["BatchWriteItem"] += 1
            if calls["BatchWriteItem"] == after + 1:
                raise KilledError(f"killed {kill_on} BatchWriteItem #{after + 1}")

        session.events.register(f"{kill_on}.dynamodb.BatchWriteItem", kill)
    return ClientFactory(session=session, config=client_config(4, max_attempts=1))


def scan(name: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=TABLE_REGION)
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
        items.extend(deserialize(item) for item in page["Items"])
    return items


def state(name: str) -> tuple[dict[str, dict[str, Any]], Counter[tuple[Any, ...]], int]:
    """(current items without volatile attributes, history events as a multiset, run records)."""
    items = scan(name)
    current = {
        item["pk"]: {k: v for k, v in item.items() if k not in VOLATILE} for item in items if item["sk"] == "CURRENT"
    }
    history = Counter(
        (item["pk"], item["event"], item["status"], item.get("previous_status"), item["record_state"])
        for item in items
        if item["sk"].startswith("HIST#")
    )
    return current, history, sum(item["sk"] == "RUN" for item in items)


@pytest.fixture(scope="module")
def findings_table_run(catalog: Any, make_factory: Any) -> Any:
    """go(name, kill_on=None, after=0): audit the seeded account and publish to table ``name``."""
    checks = sorted(catalog.checks)

    def go(name: str, kill_on: str | None = None, after: int = 0) -> Any:
        audit_factory = make_factory()
        request = AuditRequest(regions=list(REGIONS), checks=checks, sinks=["dynamodb"], table=name, max_workers=4)
        clients = SinkClients(table=table_factory(kill_on, after), accounts={ACCOUNT: audit_factory})
        options = DeliveryOptions(sleep=lambda _: None)
        return run(request, catalog, audit_factory, sink_clients=clients, delivery_options=options)

    return go


def new_table(kind: str) -> str:
    name = f"findings-{kind}-{uuid.uuid4().hex[:8]}"
    ensure_table(boto3.client("dynamodb", region_name=TABLE_REGION), name)
    return name


@pytest.fixture(scope="module")
def clean_table(findings_table_run: Any) -> tuple[Any, ...]:
    """A table after one clean run: (result, current items, history, run records)."""
    name = new_table("clean")
    result = findings_table_run(name)
    assert result.summary.undelivered_findings == 0
    return (result, *state(name))


# Killed at the first or second BatchWriteItem call of history (each batch: one check of one scope).
@pytest.mark.parametrize(("kill_on", "after"), [("before-call", 1), ("after-call", 0)])
def test_a_killed_run_then_a_rerun_converge_to_a_clean_runs_state(
    kill_on: str, after: int, findings_table_run: Any, clean_table: tuple[Any, ...]
) -> None:
    clean_result, clean_current, clean_history, clean_runs = clean_table
    name = new_table("killed")
    with pytest.raises(KilledError):
        findings_table_run(name, kill_on, after)
    midway_current, midway_history, midway_runs = state(name)
    assert midway_runs == 0, "a killed run is never recorded as a run"
    # Published one check of one scope at a time, history first: a current item written before the
    # run died always has its history event, so the re-run cannot miss a transition.
    assert midway_history, "killed while writing history"
    assert set(midway_current) <= {pk for pk, *_ in midway_history}, "history goes first in each batch"

    rerun = findings_table_run(name)
    assert rerun.summary.undelivered_findings == 0
    current, history, runs = state(name)
    assert len(clean_current) == len(clean_result.findings) > 0
    assert current == clean_current, "current items converge exactly"
    assert runs == clean_runs == 1
    assert set(history) == set(clean_history), "no transition lost, none invented"
    # History is at-least-once: each event the killed run wrote before its current item is written
    # again by the re-run (its sort key holds the run's time), so it appears twice; nothing else is.
    unfinished = {event for event in midway_history if event[0] not in midway_current}
    assert {event: n for event, n in history.items() if n > 1} == dict.fromkeys(unfinished, 2)
