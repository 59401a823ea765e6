"""Edges from Step Functions Task states, ALB target groups and API stages' burst limits: every
integration with its mode, the forms a target is named in, nested states, no edge invented for a
target named at run time or an integration the graph does not draw."""

from __future__ import annotations

from typing import Any

import pytest

from relaudit.graph.build import AccountGraph, build
from relaudit.graph.documents import Derived, node_document
from relaudit.graph.facts import EXTRACTORS, FIELDS, Edge, Fact, Node, Throttle, facts_of
from relaudit.graph.workloads import assign
from relaudit.inventory.stepfunctions_state_machine import TASK_TARGET_PARAMETERS, task_targets
from relaudit.models.resource import ResourceDocument
from tests.support.shape_walk import document_spec, field_of

ACCOUNT, REGION = "111122223333", "us-east-1"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:flow"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:news"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/"
CHILD = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:child"
ALB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/0123456789abcdef"
STATES = "arn:aws:states:::"


def _doc(resource_type: str, arn: str, name: str, **properties: Any) -> ResourceDocument:
    return ResourceDocument(
        account_id=ACCOUNT, region=REGION, resource_type=resource_type, arn=arn, name=name, properties=properties
    )


def _task(resource: str, **more: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "End": True, **more}


def _machine(states: dict[str, Any], arn: str = MACHINE) -> ResourceDocument:
    definition = {"StartAt": next(iter(states)), "States": states}
    return _doc("AWS::StepFunctions::StateMachine", arn, arn.rsplit(":", 1)[-1], TaskTargets=task_targets(definition))


def _nodes() -> list[Fact]:
    return [
        Node(FN + "charge", "AWS::Lambda::Function", "charge", REGION, ACCOUNT, ("charge",)),
        Node(
            QUEUE, "AWS::SQS::Queue", "jobs", REGION, ACCOUNT, (f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs",)
        ),
        Node(TOPIC, "AWS::SNS::Topic", "news", REGION, ACCOUNT, (TOPIC,)),
        Node(TABLE, "AWS::DynamoDB::Table", "orders", REGION, ACCOUNT, ("orders",)),
        Node(CHILD, "AWS::StepFunctions::StateMachine", "child", REGION, ACCOUNT, (CHILD,)),
    ]


def _graph(*docs: ResourceDocument, extra: tuple[Fact, ...] = ()) -> AccountGraph:
    # The documents' nodes first: a node's first fact wins, so a document overrides _nodes()'s.
    account = build([*(fact for doc in docs for fact in facts_of(doc)), *extra, *_nodes()])
    assign(account)
    return account


def _edges(*docs: ResourceDocument) -> set[tuple[str, str, str]]:
    """(target, kind, mode) of the machine's edges."""
    return {(t, k, d["mode"]) for s, t, k, d in _graph(*docs).edges() if s == MACHINE}


@pytest.mark.parametrize(
    ("state", "edge"),
    [
        (_task(f"{STATES}lambda:invoke", Parameters={"FunctionName": "charge"}), (FN + "charge", "task", "sync")),
        (_task(FN + "charge"), (FN + "charge", "task", "sync")),  # the legacy form: a bare function ARN
        (_task(FN + "charge:live"), (FN + "charge", "task", "sync")),
        (
            _task(f"{STATES}lambda:invoke", Parameters={"FunctionName": "charge", "InvocationType": "Event"}),
            (FN + "charge", "async-invoke", "async"),
        ),
        (
            _task(
                f"{STATES}lambda:invoke.waitForTaskToken",
                Parameters={"FunctionName": "charge", "InvocationType": "Event"},
            ),
            (FN + "charge", "task", "sync"),
        ),
        (
            _task(
                f"{STATES}sqs:sendMessage",
                Parameters={"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs"},
            ),
            (QUEUE, "task", "async"),
        ),
        (
            _task(
                f"{STATES}sqs:sendMessage.waitForTaskToken",
                Parameters={"QueueUrl": f"https://queue.amazonaws.com/{ACCOUNT}/jobs"},
            ),
            (QUEUE, "task", "sync"),
        ),
        (_task(f"{STATES}sns:publish", Parameters={"TopicArn": TOPIC}), (TOPIC, "task", "async")),
        (
            _task(f"{STATES}events:putEvents", Parameters={"Entries": [{"Detail": {}}]}),
            (BUS + "default", "task", "async"),
        ),
        (
            _task(f"{STATES}events:putEvents.waitForTaskToken", Parameters={"Entries": [{"EventBusName": "orders"}]}),
            (BUS + "orders", "task", "sync"),
        ),
        (_task(f"{STATES}states:startExecution", Parameters={"StateMachineArn": CHILD}), (CHILD, "task", "async")),
        (_task(f"{STATES}states:startExecution.sync", Parameters={"StateMachineArn": CHILD}), (CHILD, "task", "sync")),
        (
            _task(f"{STATES}states:startExecution.sync:2", Parameters={"StateMachineArn": f"{CHILD}:prod"}),
            (CHILD, "task", "sync"),
        ),
        (_task(f"{STATES}dynamodb:putItem", Parameters={"TableName": "orders"}), (TABLE, "write", "data")),
        (_task(f"{STATES}dynamodb:updateItem", Parameters={"TableName": TABLE}), (TABLE, "write", "data")),
        (_task(f"{STATES}dynamodb:deleteItem", Parameters={"TableName": "orders"}), (TABLE, "write", "data")),
        (_task(f"{STATES}dynamodb:getItem", Parameters={"TableName": "orders"}), (TABLE, "read", "data")),
    ],
    ids=lambda value: value["Resource"].rsplit(":", 2)[-1] if isinstance(value, dict) else "",
)
def test_each_task_integration_makes_its_edge_with_its_mode(state: dict[str, Any], edge: tuple[str, str, str]) -> None:
    assert _edges(_machine({"Only": state})) == {edge}


@pytest.mark.parametrize(
    "name",
    [
        "charge",
        "charge:live",
        "charge:$LATEST",
        "charge:7",
        f"{ACCOUNT}:function:charge",
        f"{ACCOUNT}:function:charge:live",
        FN + "charge",
        FN + "charge:live",
    ],
)
def test_a_function_named_any_way_lambda_accepts_resolves_to_its_node(name: str) -> None:
    state = _task(f"{STATES}lambda:invoke", Parameters={"FunctionName": name, "Payload.$": "$"})
    assert _edges(_machine({"Only": state})) == {(FN + "charge", "task", "sync")}


def test_jsonata_arguments_name_targets_as_jsonpath_parameters_do() -> None:
    state = _task(f"{STATES}lambda:invoke", Arguments={"FunctionName": "charge", "Payload": "{% $states.input %}"})
    assert _edges(_machine({"Only": state})) == {(FN + "charge", "task", "sync")}


@pytest.mark.parametrize(
    "state",
    [
        _task(f"{STATES}lambda:invoke", Parameters={"FunctionName.$": "$.function"}),
        _task(f"{STATES}lambda:invoke", Arguments={"FunctionName": "{% $states.input.function %}"}),
        _task(f"{STATES}lambda:invoke", Arguments="{% $states.input %}"),
        _task(f"{STATES}lambda:invoke"),  # no arguments at all
        _task(f"{STATES}sqs:sendMessage", Parameters={"QueueUrl.$": "$.queue"}),
        _task(f"{STATES}events:putEvents", Parameters={"Entries.$": "$.entries"}),
        _task(f"{STATES}events:putEvents", Parameters={"Entries": [{"EventBusName.$": "$.bus"}]}),
        _task(f"{STATES}dynamodb:putItem", Arguments={"TableName": "{% $table %}"}),
        _task(f"{STATES}ecs:runTask.sync", Parameters={"Cluster": "c"}),  # not drawn
        _task(f"{STATES}aws-sdk:lambda:invoke", Parameters={"FunctionName": "charge"}),  # SDK integrations: not read
        _task(f"arn:aws:states:{REGION}:{ACCOUNT}:activity:approve"),
        _task(f"{STATES}lambda:invoke", Parameters={"FunctionName": "not a name"}),
        _task(f"{STATES}sqs:sendMessage", Parameters={"QueueUrl": "jobs"}),  # not a URL
        _task(f"{STATES}sns:publish", Parameters={"TopicArn": "news"}),  # TopicArn is an ARN
    ],
)
def test_no_edge_for_a_target_named_at_run_time_or_an_integration_the_graph_does_not_draw(
    state: dict[str, Any],
) -> None:
    assert _edges(_machine({"Only": state})) == set()


def test_states_nested_in_parallel_branches_and_map_processors_make_edges() -> None:
    invoke = _task(f"{STATES}lambda:invoke", Parameters={"FunctionName": "charge"})
    publish = _task(f"{STATES}sns:publish", Parameters={"TopicArn": TOPIC})
    put = _task(f"{STATES}dynamodb:putItem", Parameters={"TableName": "orders"})
    states = {
        "Fan": {
            "Type": "Parallel",
            "Next": "Legacy",
            "Branches": [
                {"StartAt": "A", "States": {"A": invoke}},
                {
                    "StartAt": "Each",
                    "States": {
                        "Each": {
                            "Type": "Map",
                            "End": True,
                            "ItemProcessor": {"StartAt": "P", "States": {"P": publish}},
                        }
                    },
                },
            ],
        },
        "Legacy": {"Type": "Map", "End": True, "Iterator": {"StartAt": "W", "States": {"W": put}}},
    }
    assert _edges(_machine(states)) == {
        (FN + "charge", "task", "sync"),
        (TOPIC, "task", "async"),
        (TABLE, "write", "data"),
    }


def test_states_calling_one_target_make_one_edge_that_waits_if_any_waits_with_the_most_retries() -> None:
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs"
    retry = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 4}, {"ErrorEquals": ["X"]}]  # 4, and ASL's default 3
    states = {
        "Send": _task(f"{STATES}sqs:sendMessage", Parameters={"QueueUrl": url}, Next="Wait", End=None),
        "Wait": _task(f"{STATES}sqs:sendMessage.waitForTaskToken", Parameters={"QueueUrl": url}, Retry=retry),
    }
    targets = task_targets({"StartAt": "Send", "States": states})
    assert [(t["Waits"], t["Attempts"], t["States"]) for t in targets] == [(False, 1, 1), (True, 5, 1)]
    ((_, target, kind, data),) = [e for e in _graph(_machine(states)).edges() if e[0] == MACHINE]
    assert (target, kind, data["mode"], data["count"], data["attempts"]) == (QUEUE, "task", "sync", 2, 5)


def test_a_task_retrier_multiplies_the_attempts_along_the_path() -> None:
    retry = [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2}]
    machine = _machine({"Only": _task(FN + "charge", Retry=retry)})
    derived = Derived(_graph(machine))
    assert derived.retries[FN + "charge"] == (3, [MACHINE, FN + "charge"])


def test_a_machine_nothing_starts_is_an_entry_point_and_one_a_rule_starts_is_not() -> None:
    start_child = _task(f"{STATES}states:startExecution", Parameters={"StateMachineArn": CHILD})
    child = _machine({"Only": _task(FN + "charge")}, arn=CHILD)
    account = _graph(_machine({"Only": start_child}), child)
    derived = Derived(account)
    assert derived.entry_set & {MACHINE, CHILD} == {MACHINE}
    assert node_document(derived, FN + "charge")["Graph"]["SyncChain"] is None  # the child is reached async


def test_an_alb_waits_for_each_function_its_target_groups_route_to_and_is_an_entry_point() -> None:
    group = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/fn/0123456789abcdef"
    alb = _doc(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        ALB,
        "web",
        LambdaTargets=[
            {"TargetGroupArn": group, "FunctionArn": FN + "charge:live"},
            {"TargetGroupArn": group + "1", "FunctionArn": FN + "charge"},
        ],
    )
    nlb = _doc("AWS::ElasticLoadBalancingV2::LoadBalancer", ALB.replace("/app/", "/net/"), "tcp")
    account = _graph(alb, nlb)
    assert [(t, k, d["mode"], d["count"]) for s, t, k, d in account.edges() if s == ALB] == [
        (FN + "charge", "target", "sync", 2)
    ]
    derived = Derived(account)
    assert ALB in derived.entry_set
    assert node_document(derived, FN + "charge")["Graph"]["DirectEntryPoints"] == [ALB]


def test_an_integration_keeps_its_largest_stage_burst_and_a_function_its_reservation() -> None:
    api = f"arn:aws:apigateway:{REGION}::/restapis/a1b2c3"
    stage = f"{api}/stages/"
    function = _doc("AWS::Lambda::Function", FN + "charge", "charge", ReservedConcurrentExecutions=10)
    methods = [
        {
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{FN}charge/invocations",
        },
        {"IntegrationType": "HTTP_PROXY", "IntegrationUri": "https://example.com/{proxy}"},
        {"IntegrationType": "MOCK", "IntegrationUri": None},
    ]
    rest = _doc("AWS::ApiGateway::RestApi", api, "shop", id="a1b2c3", Methods=methods)
    stages = [
        _doc(
            "AWS::ApiGateway::Stage",
            stage + name,
            f"shop/{name}",
            stageName=name,
            LambdaIntegrations=[{"FunctionArn": FN + "charge", "BurstLimit": burst}],
        )
        for name, burst in (("dev", 20), ("prod", 500), ("test", 500))
    ]
    orphan = Throttle(api, FN + "elsewhere", 9999, "prod")  # no integration edge: adds nothing
    account = _graph(function, rest, *stages, extra=(orphan,))
    assert [(t, k) for s, t, k, _ in account.edges() if s == api] == [(FN + "charge", "integration")]
    derived = Derived(account)
    graph = node_document(derived, FN + "charge")["Graph"]
    assert graph["ReservedConcurrency"] == 10
    assert [(e["Peer"], e["BurstLimit"]) for e in graph["In"]] == [(api, 500)]
    assert derived.describe([api, FN + "charge"]) == "shop -[sync integration, burst 500 on stage prod]-> charge"


def test_every_integration_the_collector_reads_has_an_edge_rule() -> None:
    from relaudit.graph import facts

    assert set(facts._TASK_EDGES) == set(TASK_TARGET_PARAMETERS)


def test_http_stage_throttles_ride_on_its_api_edges() -> None:
    stage = _doc(
        "AWS::ApiGatewayV2::Stage",
        f"arn:aws:apigateway:{REGION}::/apis/h1/stages/live",
        "hooks/live",
        ApiId="h1",
        StageName="live",
        LambdaIntegrations=[
            {"IntegrationId": "i1", "FunctionArn": FN + "charge", "BurstLimit": 5},
            {"IntegrationId": "i2", "FunctionArn": FN + "charge", "BurstLimit": 50},
            {"IntegrationId": "i3", "FunctionArn": FN + "charge", "BurstLimit": None},
        ],
    )
    found = [f for f in facts_of(stage) if isinstance(f, Throttle | Edge)]
    api = f"arn:aws:apigateway:{REGION}::/apis/h1"
    assert found == [Edge(api, FN + "charge", "integration", "sync"), Throttle(api, FN + "charge", 50, "live")]


@pytest.mark.parametrize("resource_type", sorted(FIELDS))
def test_every_field_the_graph_reads_is_one_its_collector_declares(resource_type: str) -> None:
    """FIELDS makes the plan ask collectors for these fields when a graph check is selected (and a
    failed join of one of them makes the graph incomplete): a name no collector writes would be a
    silent hole in the graph."""
    assert resource_type in EXTRACTORS
    for name in FIELDS[resource_type]:
        field_of(document_spec(resource_type), name, f"graph FIELDS of {resource_type}")
