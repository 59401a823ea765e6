"""Graph assembly from facts: aliases, stubs, and identity-policy edges (Allow minus Deny, NotAction,
NotResource, wildcards matched against the inventoried ARNs, too-broad grants left out)."""

from __future__ import annotations

from typing import Any

from relaudit.graph.build import GRANT_FANOUT_LIMIT, build
from relaudit.graph.facts import Edge, Fact, FactSink, Grant, Node, RoleUse, facts_of
from relaudit.models.resource import ResourceDocument

ACCOUNT, REGION = "111122223333", "us-east-1"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
Q = f"arn:aws:sqs:{REGION}:{ACCOUNT}:"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/caller"


def _node(arn: str, kind: str, **attrs: Any) -> Node:
    return Node(arn, kind, arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1], REGION, ACCOUNT, (), attrs)


def _fn(name: str) -> Node:
    return _node(FN + name, "AWS::Lambda::Function")


def _grant(actions: list[str], resources: list[str], allow: bool = True, **nots: bool) -> Grant:
    return Grant(
        ROLE, allow, tuple(actions), nots.get("not_action", False), tuple(resources), nots.get("not_resource", False)
    )


def _permission_edges(*grants: Grant, extra: tuple[Fact, ...] = ()) -> set[tuple[str, str, str]]:
    facts: list[Fact] = [
        _fn("caller"),
        _fn("orders-a"),
        _fn("orders-b"),
        _fn("billing"),
        _node(Q + "jobs", "AWS::SQS::Queue"),
        _node(TABLE + "orders", "AWS::DynamoDB::Table"),
        RoleUse(FN + "caller", ROLE),
        *grants,
        *extra,
    ]
    account = build(facts)
    return {
        (t.rsplit(":", 1)[-1].rsplit("/", 1)[-1], k, d["mode"])
        for s, t, k, d in account.edges()
        if d["via"] == "permission" and s == FN + "caller"
    }


def test_exact_resources_and_wildcards_resolve_to_the_resources_they_match() -> None:
    edges = _permission_edges(
        _grant(["lambda:InvokeFunction"], [FN + "orders-*"]),
        _grant(["sqs:SendMessage"], [Q + "jobs"]),
        _grant(["dynamodb:PutItem", "dynamodb:GetItem"], [TABLE + "orders"]),
    )
    assert edges == {
        ("orders-a", "invoke", "sync"),
        ("orders-b", "invoke", "sync"),
        ("jobs", "send-message", "async"),
        ("orders", "write", "data"),
        ("orders", "read", "data"),
    }


def test_action_wildcards_match_case_insensitively_and_qualified_functions_count() -> None:
    edges = _permission_edges(
        _grant(["Lambda:Invoke*"], [FN + "billing:*"]), _grant(["dynamodb:*Item"], [TABLE + "orders/index/*"])
    )
    assert edges == {("billing", "invoke", "sync"), ("orders", "write", "data"), ("orders", "read", "data")}


def test_explicit_deny_removes_what_an_allow_grants() -> None:
    edges = _permission_edges(
        _grant(["lambda:InvokeFunction"], [FN + "*"]),
        _grant(["lambda:InvokeFunction"], [FN + "orders-b"], allow=False),
    )
    assert edges == {("orders-a", "invoke", "sync"), ("billing", "invoke", "sync")}


def test_not_action_and_not_resource_invert_their_lists() -> None:
    edges = _permission_edges(
        _grant(["lambda:*", "dynamodb:*"], [Q + "jobs"], not_action=True),
        _grant(["lambda:InvokeFunction"], [FN + "orders-*", FN + "caller"], not_resource=True),
    )
    assert edges == {("jobs", "send-message", "async"), ("billing", "invoke", "sync")}


def test_a_grant_on_more_resources_than_the_limit_adds_no_edge_and_is_listed() -> None:
    many = tuple(_fn(f"many-{i}") for i in range(GRANT_FANOUT_LIMIT + 1))
    facts = [*many, _fn("caller"), RoleUse(FN + "caller", ROLE), _grant(["lambda:InvokeFunction"], ["*"])]
    account = build(facts)
    assert not [e for e in account.edges() if e[3]["via"] == "permission"]
    assert account.graph.nodes[FN + "caller"]["broad_grants"] == ["lambda:invokefunction"]


def test_a_configured_edge_is_not_duplicated_by_a_permission_of_the_same_kind() -> None:
    facts = [Edge(FN + "caller", Q + "jobs", "send-message", "async")]
    edges = _permission_edges(_grant(["sqs:SendMessage"], [Q + "jobs"]), extra=tuple(facts))
    assert ("jobs", "send-message", "async") not in edges


def test_queue_urls_and_qualified_arns_resolve_and_unknown_arns_become_stubs() -> None:
    queue = Node(
        Q + "jobs",
        "AWS::SQS::Queue",
        "jobs",
        REGION,
        ACCOUNT,
        ("https://sqs.us-east-1.amazonaws.com/111122223333/jobs",),
    )
    facts: list[Fact] = [
        queue,
        _fn("worker"),
        Edge("https://sqs.us-east-1.amazonaws.com/111122223333/jobs", FN + "worker:live", "poll", "poll"),
        Edge(FN + "worker", "arn:aws:sns:eu-west-1:444455556666:elsewhere", "on-success", "async"),
        Edge(FN + "worker", "https://example.com/hook", "on-success", "async"),
    ]
    account = build(facts)
    assert {(s, t, k) for s, t, k, _ in account.edges()} == {
        (Q + "jobs", FN + "worker", "poll"),
        (FN + "worker", "arn:aws:sns:eu-west-1:444455556666:elsewhere", "on-success"),
    }
    stub = account.node("arn:aws:sns:eu-west-1:444455556666:elsewhere")
    assert (stub.type, stub.region, stub.account_id, stub.attrs) == (
        "AWS::SNS::Topic",
        "eu-west-1",
        "444455556666",
        {"Stub": True},
    )


def _doc(resource_type: str, arn: str, name: str, **properties: Any) -> ResourceDocument:
    return ResourceDocument(
        account_id=ACCOUNT, region=REGION, resource_type=resource_type, arn=arn, name=name, properties=properties
    )


def test_facts_read_the_collectors_documents() -> None:
    function = _doc(
        "AWS::Lambda::Function",
        FN + "f",
        "f",
        Role=ROLE,
        Timeout=30,
        DeadLetterConfig={"TargetArn": Q + "dlq"},
        EventInvokeConfig={"DestinationConfig": {"OnSuccess": {"Destination": Q + "done"}, "OnFailure": {}}},
    )
    rule = _doc(
        "AWS::Events::Rule",
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/bus/r",
        "bus/r",
        Name="r",
        EventBusName="bus",
        EventBusArn=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/bus",
        Targets=[
            {"Arn": FN + "f", "DeadLetterConfig": {"Arn": Q + "dlq"}},
            {"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage"},
        ],
    )
    edges = {
        (f.source.rsplit("/", 1)[-1].rsplit(":", 1)[-1], f.kind, f.capture)
        for d in (function, rule)
        for f in facts_of(d)
        if isinstance(f, Edge)
    }
    assert edges == {
        ("f", "dead-letter", False),
        ("f", "on-success", False),
        ("bus", "bus-rule", False),
        ("r", "rule-target", True),
        ("r", "dead-letter", False),
    }
    (node,) = [f for f in facts_of(function) if isinstance(f, Node)]
    assert node.attrs["AsyncFailureCapture"] is True


def test_tags_name_workloads_awsapplication_first() -> None:
    tags = _doc(
        "AWS::ResourceGroupsTaggingAPI::TaggedResources",
        "arn:aws:tag:us-east-1:111122223333:tagged-resources",
        "tags",
        Resources=[
            {
                "ResourceARN": FN + "a",
                "Tags": {
                    "awsApplication": f"arn:aws:resource-groups:{REGION}:{ACCOUNT}:group/shop/0abc",
                    "team": "ops",
                },
            },
            {"ResourceARN": FN + "b", "Tags": {"team": "ops"}},
        ],
    )
    sink = FactSink("team")
    sink.add([tags])
    members = [(m.physical_id.rsplit(":", 1)[-1], m.name) for m in sink.by_account[ACCOUNT]]  # type: ignore[union-attr]
    assert members == [("a", "shop"), ("a", "ops"), ("b", "ops")]
    assert facts_of(tags) and all(m.name == "shop" for m in facts_of(tags))  # type: ignore[union-attr]
