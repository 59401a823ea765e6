"""Graph documents: entry points, synchronous chains, asynchronous paths and their failure capture,
loops (through a store's stream too), writers' workloads; workloads from stacks, tags, components."""

from __future__ import annotations

from typing import Any

import pytest

from relaudit.catalog.evaluate import PARAMS_KEY
from relaudit.catalog.functions import OPTIONS
from relaudit.catalog.loader import load_catalog
from relaudit.graph.build import build
from relaudit.graph.documents import Derived, documents, node_document
from relaudit.graph.facts import Edge, Fact, Member, Node
from relaudit.graph.workloads import assign
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Status

ACCOUNT, REGION = "111122223333", "us-east-1"
TYPES = {
    "fn": "AWS::Lambda::Function",
    "q": "AWS::SQS::Queue",
    "topic": "AWS::SNS::Topic",
    "api": "AWS::ApiGateway::RestApi",
    "rule": "AWS::Events::Rule",
    "table": "AWS::DynamoDB::Table",
}


def n(name: str, **attrs: Any) -> Node:
    kind = name.split("-")[0]
    return Node(name, TYPES[kind], name, REGION, ACCOUNT, (), attrs)


def graph_of(*facts: Fact) -> Any:
    account = build(facts)
    assign(account)
    return account


def doc(account: Any, arn: str) -> dict[str, Any]:
    return node_document(Derived(account), arn)["Graph"]


def test_sync_chain_is_counted_from_the_entry_point_at_its_head() -> None:
    account = graph_of(
        n("api-a"),
        n("fn-front"),
        n("fn-mid"),
        n("fn-back"),
        Edge("api-a", "fn-front", "integration", "sync"),
        Edge("fn-front", "fn-mid", "invoke", "sync", via="permission"),
        Edge("fn-mid", "fn-back", "invoke", "sync", via="permission"),
    )
    assert doc(account, "fn-front")["SyncChain"] == ["api-a", "fn-front", "fn-mid", "fn-back"]
    assert doc(account, "fn-mid")["SyncChain"] is None  # not called by an entry point
    assert doc(account, "api-a")["EntryPoint"] is True


def test_a_sync_cycle_counts_as_one_step_of_a_chain_and_is_a_loop() -> None:
    account = graph_of(
        n("api-a"),
        n("fn-x"),
        n("fn-y"),
        Edge("api-a", "fn-x", "integration", "sync"),
        Edge("fn-x", "fn-y", "invoke", "sync"),
        Edge("fn-y", "fn-x", "invoke", "sync"),
    )
    assert doc(account, "fn-x")["SyncChain"] == ["api-a", "fn-x"]  # the loop check reports the rest
    assert doc(account, "fn-x")["Loop"] == ["fn-x", "fn-y", "fn-x"]


def test_an_async_path_is_uncaptured_only_when_no_hop_captures() -> None:
    account = graph_of(
        n("rule-r"),
        n("topic-t"),
        n("q-a"),
        n("q-b", Redrive=True),
        n("fn-a"),
        n("fn-b"),
        n("fn-c", AsyncFailureCapture=True),
        Edge("rule-r", "topic-t", "rule-target", "async"),
        Edge("topic-t", "q-a", "subscription", "async"),
        Edge("q-a", "fn-a", "poll", "poll"),
        Edge("topic-t", "q-b", "subscription", "async"),
        Edge("q-b", "fn-b", "poll", "poll"),
        Edge("topic-t", "fn-c", "subscription", "async"),
    )
    assert doc(account, "fn-a")["UncapturedAsyncPath"] == ["rule-r", "topic-t", "q-a", "fn-a"]
    assert doc(account, "fn-b")["UncapturedAsyncPath"] is None  # the queue's redrive captures
    assert doc(account, "fn-c")["UncapturedAsyncPath"] is None  # the function's destination captures
    assert all(doc(account, f)["ReachedAsync"] for f in ("fn-a", "fn-b", "fn-c"))


def test_a_capture_on_an_earlier_hop_covers_the_path() -> None:
    account = graph_of(
        n("rule-r"),
        n("q-a"),
        n("fn-a"),
        Edge("rule-r", "q-a", "rule-target", "async", capture=True),
        Edge("q-a", "fn-a", "poll", "poll"),
    )
    assert doc(account, "fn-a")["UncapturedAsyncPath"] is None
    assert doc(account, "fn-a")["ReachedAsync"] is True


def test_sync_only_reach_is_not_an_async_path() -> None:
    account = graph_of(n("api-a"), n("fn-a"), Edge("api-a", "fn-a", "integration", "sync"))
    assert doc(account, "fn-a")["ReachedAsync"] is False


def test_a_write_into_the_table_whose_stream_triggers_the_function_is_a_loop() -> None:
    account = graph_of(
        n("table-t"),
        n("fn-a"),
        Edge("table-t", "fn-a", "poll", "poll"),
        Edge("fn-a", "table-t", "write", "data", via="permission"),
    )
    assert doc(account, "fn-a")["Loop"] == ["fn-a", "table-t", "fn-a"]
    assert doc(account, "table-t")["Writers"] == ["fn-a"]


def test_writers_workloads_come_from_stacks_then_components() -> None:
    account = graph_of(
        n("table-t"),
        n("fn-a"),
        n("fn-b"),
        n("fn-c"),
        Edge("fn-a", "table-t", "write", "data"),
        Edge("fn-b", "table-t", "write", "data"),
        Member("stack-1", "shop", "cloudformation", "AWS::Lambda::Function", "fn-a"),
        Member("stack-1", "shop", "cloudformation", "AWS::DynamoDB::Table", "table-t"),
        Member("app-1", "billing", "tag", "", "fn-b"),
    )
    graph = doc(account, "table-t")
    assert graph["WriterWorkloads"] == ["app-1", "stack-1"]
    assert account.graph.nodes["fn-c"]["workload"] == "component:fn-c"


def test_a_stack_member_is_matched_by_type_and_physical_id() -> None:
    queue = Node(
        "arn:aws:sqs:us-east-1:111122223333:jobs",
        "AWS::SQS::Queue",
        "jobs",
        REGION,
        ACCOUNT,
        ("https://q/jobs", "jobs"),
    )
    same_name = Node(
        "arn:aws:lambda:us-east-1:111122223333:function:jobs",
        "AWS::Lambda::Function",
        "jobs",
        REGION,
        ACCOUNT,
        ("jobs",),
    )
    account = build([queue, same_name, Member("stack-1", "s", "cloudformation", "AWS::SQS::Queue", "https://q/jobs")])
    workloads = assign(account)
    assert [(w.name, w.source, w.nodes) for w in workloads] == [
        ("jobs", "component", (same_name.arn,)),
        ("s", "cloudformation", (queue.arn,)),
    ]


def test_stubs_have_no_document_and_no_workload() -> None:
    account = graph_of(n("fn-a"), Edge("fn-a", "arn:aws:sqs:eu-west-1:444455556666:far", "on-success", "async"))
    assert [arn for arn, _ in documents(account)] == ["fn-a"]
    assert "workload" not in account.graph.nodes["arn:aws:sqs:eu-west-1:444455556666:far"]


CATALOG = load_catalog(known_types=COLLECTORS)
PATH_EXAMPLES = [
    pytest.param(check, example, id=f"{check.id}::{example.name}")
    for check in CATALOG.checks.values()
    if check.finding_path is not None
    for example in check.definition.examples
    if example.expect is Status.FAILED
]


@pytest.mark.parametrize(("check", "example"), PATH_EXAMPLES)
def test_a_failing_example_of_a_path_check_yields_a_path_of_arns(check: Any, example: Any) -> None:
    found = check.finding_path.search({**example.resource, PARAMS_KEY: check.definition.parameters}, options=OPTIONS)
    assert isinstance(found, list) and found and all(isinstance(arn, str) and arn.startswith("arn:") for arn in found)
