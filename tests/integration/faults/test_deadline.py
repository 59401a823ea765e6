"""Lambda time running out: collection stops at the deadline, keeps what it has, and reports partial.

A slow unit is a ``before-send`` hook that holds RDS (or SQS) calls until the test releases them, then fails
them with an error botocore does not retry, so an abandoned worker thread ends quickly and never
reaches past moto.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from relaudit.handlers import handler
from relaudit.inventory import start_order
from relaudit.models.request import AuditRequest
from relaudit.run import DEADLINE_EXCEEDED, run
from tests.conftest import FakeLambdaContext
from tests.integration.faults.conftest import findings_of
from tests.support.faults import Faults

RDS, SQS = "AWS::RDS::DBInstance", "AWS::SQS::Queue"
# The deadline is set before planning: it must leave room for the plan and the SQS unit on a
# loaded 2-core machine, while the held RDS unit can only end by being abandoned.
SLACK = 3.5
CHECKS = ["rds-db-instance-multi-az", "sqs-queue-redrive-policy-configured"]


class ReleasedError(Exception):
    """Raised into the held call once the test is over (not a botocore error: never retried)."""


@pytest.fixture
def held_calls(account: Any) -> Iterator[Any]:
    """install(session, service="rds"): that service's calls made through ``session`` hang until the test ends."""
    gate = threading.Event()

    def hold(**_: Any) -> None:
        gate.wait(30)
        raise ReleasedError("released by the test")

    def install(session: Any, service: str = "rds") -> None:
        session.events.register_first(f"before-send.{service}", hold)

    yield install
    gate.set()


def request(max_workers: int) -> AuditRequest:
    return AuditRequest(regions=["us-east-1"], checks=CHECKS, max_workers=max_workers)


def test_units_not_started_by_the_deadline_are_never_called(held_calls: Any, make_factory: Any, catalog: Any) -> None:
    faults = Faults()
    factory = make_factory(faults)
    held_calls(factory.session, "sqs")
    # One worker: the SQS unit (a long unit, started first) holds it, the RDS unit waits in the queue.
    assert start_order([RDS, SQS]) == [SQS, RDS]
    result = run(request(1), catalog, factory, deadline=time.monotonic() + SLACK)
    messages = {g.resource_type: g.message for g in result.coverage_gaps}
    assert {g.error_code for g in result.coverage_gaps} == {DEADLINE_EXCEEDED}
    assert "while this unit ran" in messages[SQS]
    assert "before this unit started" in messages[RDS]
    assert not [call for _, call in faults.calls if call.service == "rds"]
    assert list(result.findings) == []


def test_a_deadline_already_passed_collects_nothing(make_factory: Any, catalog: Any) -> None:
    faults = Faults()
    result = run(request(4), catalog, make_factory(faults), deadline=time.monotonic() - 1)
    assert {(g.resource_type, g.error_code) for g in result.coverage_gaps} == {
        (RDS, DEADLINE_EXCEEDED),
        (SQS, DEADLINE_EXCEEDED),
    }
    assert {call.service for _, call in faults.calls} == {"sts"}  # only the plan's GetCallerIdentity


def emitted_metrics(stdout: str) -> dict[str, list[float]]:
    """The metric values of the EMF documents Powertools printed (each as a list of values)."""
    values: dict[str, list[float]] = {}
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = document[metric["Name"]]
                    values.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    return values


def test_handler_stops_in_time_and_reports_partial_with_a_metric(
    account: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """3 s left and a 5 s flush margin: the handler must not start collecting at all."""
    monkeypatch.setenv("RELAUDIT_FLUSH_MARGIN_SECONDS", "5")
    event = {"regions": ["us-east-1", "eu-west-1"], "checks": CHECKS, "max_workers": 3}
    response = handler(event, FakeLambdaContext(remaining_ms=3000))
    assert response["status"] == "partial"
    assert response["summary"]["coverage_gaps"] == 4
    assert emitted_metrics(capsys.readouterr().out)["CoverageGaps"] == [4]


def test_at_the_deadline_a_slow_unit_is_abandoned_and_the_rest_flushed(
    held_calls: Any, make_factory: Any, catalog: Any, clean: Any
) -> None:
    """RDS is held: the run returns at the deadline without it, the SQS findings still reach
    DynamoDB, and the run is recorded there as partial."""
    import boto3

    from relaudit.sinks.delivery import SinkClients
    from relaudit.sinks.dynamodb import FindingsTable
    from relaudit.sinks.retry import DeliveryOptions
    from tests.integration.faults.conftest import ACCOUNT
    from tests.integration.faults.test_rerun_converges import TABLE_REGION, new_table, table_factory

    factory = make_factory()
    held_calls(factory.session)
    name = new_table("deadline")
    request = AuditRequest(regions=["us-east-1"], checks=CHECKS, sinks=["dynamodb"], table=name, max_workers=2)
    clients = SinkClients(table=table_factory(), accounts={ACCOUNT: factory})
    options = DeliveryOptions(sleep=lambda _: None)
    started = time.monotonic()
    result = run(request, catalog, factory, deadline=started + SLACK, sink_clients=clients, delivery_options=options)
    elapsed = time.monotonic() - started
    assert SLACK - 0.1 < elapsed < SLACK + 4, "returns at the deadline, without waiting for the held unit"
    [gap] = result.coverage_gaps
    assert (gap.region, gap.resource_type, gap.error_code) == ("us-east-1", RDS, DEADLINE_EXCEEDED)
    assert "while this unit ran" in gap.message
    sqs_clean = [f for f in findings_of(clean) if f["resource_type"] == SQS and f["region"] == "us-east-1"]
    assert findings_of(result) == sqs_clean and sqs_clean
    assert result.summary.result == "partial"
    table = FindingsTable(boto3.client("dynamodb", region_name=TABLE_REGION), name)
    stored = table.current(ACCOUNT, "us-east-1")
    assert sorted(item["id"] for item in stored) == sorted(f["id"] for f in sqs_clean)
    [record] = table.runs()
    assert record["run_id"] == result.summary.run_id


def test_a_finished_scope_is_delivered_while_another_is_still_collected(
    make_factory: Any, catalog: Any, clean: Any
) -> None:
    """eu-west-1's RDS unit hangs until the deadline; us-east-1 is complete first, and is in the
    table before the deadline passes: had the Lambda been stopped there, that scope would stay
    delivered. The held scope is published after the deadline, without its RDS findings."""
    import boto3

    from relaudit.sinks.delivery import SinkClients
    from relaudit.sinks.dynamodb import FindingsTable
    from relaudit.sinks.retry import DeliveryOptions
    from tests.integration.faults.conftest import ACCOUNT
    from tests.integration.faults.test_rerun_converges import TABLE_REGION, new_table, table_factory

    gate = threading.Event()

    def hold_west(request: Any, **_: Any) -> None:
        if "eu-west-1" in request.url:
            gate.wait(30)
            raise ReleasedError("released by the test")

    factory = make_factory()
    factory.session.events.register_first("before-send.rds", hold_west)
    writes: list[tuple[float, str]] = []
    tables = table_factory()

    def written(params: Any, **_: Any) -> None:
        writes.append((time.monotonic(), params["Item"]["gsi1pk"]["S"]))

    tables.client("dynamodb").meta.events.register("provide-client-params.dynamodb.PutItem", written)
    name = new_table("streamed")
    audit = AuditRequest(regions=["us-east-1", "eu-west-1"], checks=CHECKS, sinks=["dynamodb"], table=name)
    clients = SinkClients(table=tables, accounts={ACCOUNT: factory})
    deadline = time.monotonic() + SLACK
    try:
        result = run(
            audit, catalog, factory, deadline=deadline, sink_clients=clients, delivery_options=DeliveryOptions()
        )
    finally:
        gate.set()
    [gap] = result.coverage_gaps
    assert (gap.region, gap.resource_type, gap.error_code) == ("eu-west-1", RDS, DEADLINE_EXCEEDED)
    east = [t for t, scope in writes if scope == f"SCOPE#{ACCOUNT}#us-east-1"]
    west = [t for t, scope in writes if scope == f"SCOPE#{ACCOUNT}#eu-west-1"]
    assert east and max(east) < deadline, "the complete scope was delivered before the deadline"
    assert west and min(west) >= deadline - 0.5, "the held scope only after it"
    table = FindingsTable(boto3.client("dynamodb", region_name=TABLE_REGION), name)
    clean_east = sorted(f["id"] for f in findings_of(clean) if f["region"] == "us-east-1" and f["check_id"] in CHECKS)
    assert sorted(item["id"] for item in table.current(ACCOUNT, "us-east-1")) == clean_east
