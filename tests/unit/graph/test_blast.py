"""Blast radius: a failing redundancy check names the entry points and workloads that reach the
resource, and its severity rises with them; a function's environment naming a store is a data edge."""

from __future__ import annotations

from typing import Any

import pytest

from relaudit.catalog.findings import FindingRecords, record
from relaudit.catalog.loader import load_catalog
from relaudit.graph import evaluate as graph_evaluate
from relaudit.graph.blast import raised
from relaudit.graph.facts import Fact, Member, facts_of
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Severity, Status
from relaudit.models.resource import ResourceDocument

ACCOUNT, REGION = "111122223333", "us-east-1"
CATALOG = load_catalog(known_types=COLLECTORS)
MULTI_AZ = CATALOG.checks["rds-db-instance-multi-az"]  # HIGH, blast_radius: true
BACKUP = CATALOG.checks["rds-db-instance-backup-retention"]  # not a redundancy check
DB = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders-db"
HOST = "orders-db.c9akciq32.us-east-1.rds.amazonaws.com"
API = f"arn:aws:apigateway:{REGION}::/restapis/a1"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"


def _doc(resource_type: str, arn: str, name: str, **properties: Any) -> ResourceDocument:
    return ResourceDocument(
        arn=arn, resource_type=resource_type, name=name, region=REGION, account_id=ACCOUNT, properties=properties
    )


def _db() -> ResourceDocument:
    return _doc("AWS::RDS::DBInstance", DB, "orders-db", Endpoint={"Address": HOST, "Port": 5432})


def _function(name: str, **env: str) -> ResourceDocument:
    return _doc("AWS::Lambda::Function", FN + name, name, Environment={"Variables": env}, Timeout=10)


def _api(*functions: str) -> ResourceDocument:
    uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{}/invocations"
    methods = [{"IntegrationType": "AWS_PROXY", "IntegrationUri": uri.format(FN + f)} for f in functions]
    return _doc("AWS::ApiGateway::RestApi", API, "shop", id="a1", Methods=methods)


def _facts(*docs: ResourceDocument, members: tuple[Member, ...] = ()) -> list[Fact]:
    return [fact for doc in docs for fact in facts_of(doc)] + list(members)


def _judged(facts: list[Fact], status: Status = Status.FAILED, check: Any = MULTI_AZ) -> Any:
    account, workloads = graph_evaluate.account_graph(facts)
    waiting = [record(check, status, ACCOUNT, REGION, DB, "orders-db")]
    records, _ = graph_evaluate.evaluate_account(account, [], workloads=workloads, redundancy=waiting)
    [finding] = FindingRecords(records)
    return finding


@pytest.mark.parametrize(
    ("base", "steps", "expected"),
    [
        (Severity.LOW, 1, Severity.MEDIUM),
        (Severity.MEDIUM, 2, Severity.CRITICAL),
        (Severity.HIGH, 2, Severity.CRITICAL),  # capped
        (Severity.INFORMATIONAL, 2, Severity.INFORMATIONAL),  # no risk to raise
        (Severity.HIGH, 0, Severity.HIGH),
    ],
)
def test_severity_rises_by_levels_and_stops_at_critical(base: Severity, steps: int, expected: Severity) -> None:
    assert raised(base, steps) is expected


@pytest.mark.parametrize(
    "value",
    [
        HOST,
        f"jdbc:postgresql://{HOST}:5432/orders",
        f"postgres://app@{HOST.upper()}:5432/orders",
    ],
)
def test_a_function_environment_naming_the_store_is_a_data_edge(value: str) -> None:
    account, _ = graph_evaluate.account_graph(_facts(_db(), _function("pricing", DB_HOST=value)))
    assert [(s, t, k, d["mode"]) for s, t, k, d in account.edges()] == [(FN + "pricing", DB, "environment", "data")]


def test_an_environment_naming_nothing_inventoried_adds_no_edge_and_no_node() -> None:
    docs = (_db(), _function("pricing", DB_HOST="other.c9akciq32.us-east-1.rds.amazonaws.com", URL="https://x.io"))
    account, _ = graph_evaluate.account_graph(_facts(*docs))
    assert account.edges() == [] and set(account.graph.nodes) == {DB, FN + "pricing"}


def test_a_failing_multi_az_store_behind_an_api_is_raised_and_names_the_api() -> None:
    finding = _judged(_facts(_api("pricing"), _function("pricing", DB_HOST=HOST), _db()))
    assert finding.status is Status.FAILED
    assert finding.severity is Severity.CRITICAL  # HIGH, one entry point's workload: +1
    assert finding.blast_radius is not None
    assert finding.blast_radius.entry_points == [API] and finding.blast_radius.raised_from is Severity.HIGH
    assert "shop" in finding.reason and "raised from HIGH" in finding.reason


def test_entry_points_of_two_workloads_raise_two_levels() -> None:
    check = CATALOG.checks["lambda-function-vpc-multi-az"]  # MEDIUM
    web = Member("stack/web", "web", "cloudformation", "AWS::ApiGateway::RestApi", "a1")
    jobs = Member("stack/jobs", "jobs", "cloudformation", "AWS::SQS::Queue", QUEUE)
    queue = _doc("AWS::SQS::Queue", QUEUE, "jobs", QueueUrl="https://sqs.us-east-1.amazonaws.com/x/jobs")
    mapping = _doc("AWS::Lambda::EventSourceMapping", "m1", "m1", EventSourceArn=QUEUE, FunctionArn=FN + "shared")
    facts = _facts(_api("shared"), queue, mapping, _function("shared"), members=(web, jobs))
    account, workloads = graph_evaluate.account_graph(facts)
    waiting = [record(check, Status.FAILED, ACCOUNT, REGION, FN + "shared", "shared")]
    records, _ = graph_evaluate.evaluate_account(account, [], workloads=workloads, redundancy=waiting)
    [finding] = FindingRecords(records)
    assert finding.severity is Severity.CRITICAL  # MEDIUM + 2
    assert finding.blast_radius is not None
    assert finding.blast_radius.entry_points == sorted([API, QUEUE])
    assert finding.blast_radius.workloads == ["jobs", "shared", "web"]  # the entry points' and its own
    assert "in workload(s) jobs, shared, web" in finding.reason


def test_nothing_reaches_it_so_the_finding_is_as_judged() -> None:
    finding = _judged(_facts(_function("pricing", DB_HOST=HOST), _db()))  # no entry point calls pricing
    assert finding.severity is Severity.HIGH and finding.blast_radius is None


def test_passing_findings_and_other_checks_get_no_radius() -> None:
    facts = _facts(_api("pricing"), _function("pricing", DB_HOST=HOST), _db())
    assert _judged(facts, Status.PASSED).blast_radius is None
    other = _judged(facts, check=BACKUP)
    assert other.blast_radius is None and other.severity is BACKUP.definition.severity


def test_a_dead_letter_queue_is_not_on_the_path() -> None:
    # The API's function sends failures to a DLQ the DB-writing function drains: the DLQ's consumer
    # is reached only through a failure edge, so the API does not depend on the DB.
    dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    front = _doc("AWS::Lambda::Function", FN + "front", "front", DeadLetterConfig={"TargetArn": dlq}, Environment={})
    queue = _doc("AWS::SQS::Queue", dlq, "dlq")
    mapping = _doc("AWS::Lambda::EventSourceMapping", "m2", "m2", EventSourceArn=dlq, FunctionArn=FN + "drain")
    finding = _judged(_facts(_api("front"), front, queue, mapping, _function("drain", DB_HOST=HOST), _db()))
    assert finding.blast_radius is not None
    assert finding.blast_radius.entry_points == [dlq]  # the queue is an entry point of its own path, not the API
