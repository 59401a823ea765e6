"""Resource documents -> compact graph facts (nodes, edges, role grants, stack members); pure.

Each document is read once, as its scope's documents stream past, and only these facts are kept:
an account's graph is assembled from them (:mod:`relaudit.graph.build`) without holding documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from relaudit.models.resource import ResourceDocument

Mode = Literal["sync", "async", "poll", "data"]
MODES: tuple[str, ...] = ("sync", "async", "poll", "data")

# Edge kinds that carry failures away (a DLQ, an on-failure destination, a redrive target): they
# are where a path's failures go, not a continuation of the path.
FAILURE_KINDS = frozenset({"dead-letter", "on-failure", "redrive"})
# Hops where a failed delivery is retried by AWS and then dropped unless captured (DLQ or
# on-failure destination): the sender does not see the failure.
# "async-invoke": a Step Functions Task invoking a function with InvocationType Event (Lambda's
# asynchronous invocation: retried, then dropped unless the function captures it).
LOSSY_KINDS = frozenset(
    {"subscription", "rule-target", "schedule-target", "notification", "on-success", "async-invoke", "poll"}
)
# Hops that deliver a message or event at least once: a consumer can see it twice.
AT_LEAST_ONCE_KINDS = frozenset(
    {"subscription", "rule-target", "schedule-target", "notification", "on-success", "async-invoke"}
)


@dataclass(frozen=True, slots=True)
class Node:
    """A resource of the graph; ``aliases`` are the other ids resources name it by (name, URL...)."""

    arn: str
    type: str
    name: str
    region: str
    account_id: str
    aliases: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Edge:
    """One interaction; ``target`` may be an alias (queue URL, stream ARN) until the graph is built.

    ``capture``: the hop's own failure capture (a subscription's or target's DLQ, a mapping's
    on-failure destination); None when the hop has none of its own. ``via``: ``configuration``
    (the resource's settings say so) or ``permission`` (only an IAM policy allows it).
    """

    source: str
    target: str
    kind: str
    mode: Mode
    via: str = "configuration"
    capture: bool = False
    count: int = 1  # how many configurations make it (an API's methods integrating one function)
    attempts: int | None = None  # deliveries of one event over the hop, when the hop says


@dataclass(frozen=True, slots=True)
class Throttle:
    """How many requests an API stage lets through at once (its effective burst limit) over the
    API's integration with ``target``; the graph keeps the largest stage's on that edge."""

    source: str
    target: str
    burst: int
    stage: str


@dataclass(frozen=True, slots=True)
class Grant:
    """One identity-policy statement of a role, kept to the actions that make edges."""

    role: str
    allow: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool


@dataclass(frozen=True, slots=True)
class RoleUse:
    """A compute resource runs with this role."""

    compute: str
    role: str


@dataclass(frozen=True, slots=True)
class Member:
    """A resource a CloudFormation stack (the root stack of nested ones) or a tag places in a workload."""

    workload: str
    name: str
    source: str
    resource_type: str
    physical_id: str


Fact = Node | Edge | Throttle | Grant | RoleUse | Member

# Which document fields the facts read, per type: the plan adds them to what collectors enrich.
FIELDS: dict[str, frozenset[str]] = {
    "AWS::Lambda::Function": frozenset({"EventInvokeConfig", "ReservedConcurrentExecutions"}),
    "AWS::ApiGateway::Stage": frozenset({"LambdaIntegrations"}),
    "AWS::ApiGatewayV2::Stage": frozenset({"LambdaIntegrations"}),
    "AWS::StepFunctions::StateMachine": frozenset({"TaskTargets"}),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": frozenset({"LambdaTargets"}),
}


# (service, resource prefix) of ARNs that may carry a version or alias qualifier as an 8th field.
_QUALIFIED = frozenset({("lambda", "function"), ("states", "stateMachine")})


def unqualified(arn: str) -> str:
    """A Lambda function or Step Functions state machine ARN without its version or alias; other
    ARNs unchanged (a qualified function is its function's node)."""
    parts = arn.split(":")
    if len(parts) == 8 and (parts[2], parts[5]) in _QUALIFIED:
        return ":".join(parts[:7])
    return arn


def _mapping_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _arn_parts(arn: str) -> list[str]:
    return arn.split(":", 5) if arn.startswith("arn:") else []


def _is_arn(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and len(_arn_parts(value)) == 6


# A function's environment naming a store by its endpoint (a DB host in DB_HOST, a JDBC URL) or its
# ARN (the RDS Data API's CLUSTER_ARN, say) is how the code finds it: a data edge to the store.
_AWS_HOST = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?")
_ENVIRONMENT_ARN_SERVICES = frozenset({"rds", "elasticache", "redshift", "es", "kafka", "mq"})


def _environment_edges(function: str, variables: dict[str, Any]) -> Iterable[Fact]:
    named: set[str] = set()
    for value in variables.values():
        text = str(value).strip().lower()
        named.update(_AWS_HOST.findall(text))
        if _is_arn(text) and _arn_parts(text)[2] in _ENVIRONMENT_ARN_SERVICES:
            named.add(str(value).strip())
    for target in sorted(named):
        yield Edge(function, target, "environment", "data")


def _lambda(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    config = p.get("EventInvokeConfig") or {}
    destinations = config.get("DestinationConfig") or {}
    on_failure = (destinations.get("OnFailure") or {}).get("Destination")
    on_success = (destinations.get("OnSuccess") or {}).get("Destination")
    dlq = (p.get("DeadLetterConfig") or {}).get("TargetArn")
    variables = (p.get("Environment") or {}).get("Variables") or {}
    attrs = {
        "Timeout": p.get("Timeout"),
        # Tables the code is told to keep idempotency records in (Powertools' examples and users
        # name the variable so): evidence beside a table named like one.
        "IdempotencyTableRefs": sorted(str(v) for k, v in variables.items() if "IDEMPOTENCY" in k.upper()),
        "AsyncFailureCapture": bool(dlq or on_failure),
        "AsyncAttempts": int(config.get("MaximumRetryAttempts", 2)) + 1,  # Lambda's default: 2 retries
        "ReservedConcurrency": p.get("ReservedConcurrentExecutions"),  # None: unreserved (or not read)
    }
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, (doc.name,), attrs)
    if p.get("Role"):
        yield RoleUse(doc.arn, p["Role"])
    for kind, target in (("dead-letter", dlq), ("on-failure", on_failure), ("on-success", on_success)):
        if _is_arn(target):
            yield Edge(doc.arn, target, kind, "async")
    if isinstance(variables, dict):
        yield from _environment_edges(doc.arn, variables)


def _mapping(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    source, function = p.get("EventSourceArn"), p.get("FunctionArn")
    if not (_is_arn(source) and _is_arn(function)):
        return
    on_failure = ((p.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    retries = p.get("MaximumRetryAttempts")  # streams only; -1 (or absent): until the record expires
    attempts = int(retries) + 1 if isinstance(retries, int) and retries >= 0 else None
    yield Edge(source, function, "poll", "poll", capture=bool(on_failure), attempts=attempts)
    if _is_arn(on_failure):
        yield Edge(source, on_failure, "on-failure", "async")


def _queue(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    redrive = _mapping_of(p.get("RedrivePolicy"))
    target = redrive.get("deadLetterTargetArn")
    attrs = {"Redrive": _is_arn(target), "MaxReceiveCount": redrive.get("maxReceiveCount")}
    aliases = tuple(a for a in (p.get("QueueUrl"), doc.name) if a)
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, aliases, attrs)
    if _is_arn(target):
        yield Edge(doc.arn, target, "redrive", "async")


def _subscription(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    topic, endpoint = p.get("TopicArn"), p.get("Endpoint")
    if not _is_arn(topic):
        return
    parts = _arn_parts(topic)
    yield Node(topic, "AWS::SNS::Topic", parts[5], parts[3], parts[4], (topic,))
    redrive = _mapping_of(p.get("RedrivePolicy"))
    dlq = redrive.get("deadLetterTargetArn")
    if _is_arn(endpoint):
        yield Edge(topic, endpoint, "subscription", "async", capture=_is_arn(dlq))
    if _is_arn(dlq):
        yield Edge(topic, dlq, "dead-letter", "async")


def _rule(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    bus = p.get("EventBusName") or "default"
    aliases = (p.get("Name") or doc.name, f"{bus}|{p.get('Name')}")
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, aliases)
    bus_arn = p.get("EventBusArn") or f"arn:aws:events:{doc.region}:{doc.account_id}:event-bus/{bus}"
    if not p.get("ScheduleExpression") and _is_arn(bus_arn):
        yield Edge(bus_arn, doc.arn, "bus-rule", "async")
    for target in p.get("Targets") or []:
        yield from _target_edges(doc.arn, target, "rule-target")


def _target_edges(source: str, target: dict[str, Any], kind: str) -> Iterable[Fact]:
    arn = target.get("Arn")
    # Scheduler's universal targets (arn:aws:scheduler:::aws-sdk:...) name an API, not a resource.
    if not _is_arn(arn) or ":aws-sdk:" in arn:
        return
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    yield Edge(source, arn, kind, "async", capture=_is_arn(dlq))
    if _is_arn(dlq):
        yield Edge(source, dlq, "dead-letter", "async")


def _schedule(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, (p.get("Name") or doc.name,))
    if isinstance(p.get("Target"), dict):
        yield from _target_edges(doc.arn, p["Target"], "schedule-target")


def _table(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    aliases = tuple(a for a in (doc.name, p.get("LatestStreamArn")) if a)
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, aliases)


_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_QUALIFIER = re.compile(r"^[A-Za-z0-9$_-]+$")  # a version, an alias or $LATEST
_REGION_IN_HOST = re.compile(r"(?:^|\.)([a-z]{2}(?:-[a-z]+)+-\d+)\.")
_QUEUE_URL = re.compile(r"^https?://([^/]+)/(\d{12})/([A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class _Home:
    """Where a Task's short names resolve: the state machine's partition, Region and account."""

    partition: str
    region: str
    account: str

    def arn(self, service: str, resource: str, region: str | None = None, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{region or self.region}:{account or self.account}:{resource}"


def _function_ref(ref: str, home: _Home) -> str | None:
    """A Lambda ``FunctionName`` (a name, ``name:qualifier``, a partial ARN ``<account>:function:
    <name>[:qualifier]`` or a full ARN) as a function ARN; the graph drops the qualifier."""
    if ref.startswith("arn:"):
        return ref
    parts = ref.split(":")
    if len(parts) >= 3 and parts[1] == "function" and parts[0].isdigit():
        account, parts = parts[0], parts[2:]
    else:
        account = home.account
    if not 1 <= len(parts) <= 2 or not _NAME.match(parts[0]) or not all(_QUALIFIER.match(q) for q in parts[1:]):
        return None
    return home.arn("lambda", "function:" + ":".join(parts), account=account)


def _queue_ref(ref: str, home: _Home) -> str | None:
    """An SQS ``QueueUrl`` (any of its host forms) as the queue's ARN."""
    found = _QUEUE_URL.match(ref)
    if not found:
        return None
    host, account, name = found.groups()
    region = _REGION_IN_HOST.search(host)
    # queue.amazonaws.com, the legacy host without a Region, is us-east-1's
    named = region.group(1) if region else ("us-east-1" if host.startswith("queue.") else home.region)
    return home.arn("sqs", name, region=named, account=account)


def _named_ref(service: str, prefix: str) -> Callable[[str, _Home], str | None]:
    """A resolver for a parameter taking a name or an ARN (an event bus, a table)."""

    def resolve(ref: str, home: _Home) -> str | None:
        if ref.startswith("arn:"):
            return ref
        return home.arn(service, f"{prefix}{ref}") if _NAME.match(ref) else None

    return resolve


def _arn_ref(ref: str, _home: _Home) -> str | None:
    return ref if _is_arn(ref) else None


_table_ref = _named_ref("dynamodb", "table/")
# Step Functions Task integrations (relaudit.inventory.stepfunctions_state_machine's TaskTargets)
# -> how their target is named, and the edge (kind, mode) when the state waits for the target's
# work (.sync, .waitForTaskToken, a request-response Lambda invoke) and when it does not.
# https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html
_TASK_EDGES: dict[str, tuple[Callable[[str, _Home], str | None], tuple[str, Mode], tuple[str, Mode]]] = {
    "lambda:invoke": (_function_ref, ("task", "sync"), ("async-invoke", "async")),
    "sqs:sendMessage": (_queue_ref, ("task", "sync"), ("task", "async")),
    "sns:publish": (_arn_ref, ("task", "sync"), ("task", "async")),
    "events:putEvents": (_named_ref("events", "event-bus/"), ("task", "sync"), ("task", "async")),
    "states:startExecution": (_arn_ref, ("task", "sync"), ("task", "async")),
    "dynamodb:putItem": (_table_ref, ("write", "data"), ("write", "data")),
    "dynamodb:updateItem": (_table_ref, ("write", "data"), ("write", "data")),
    "dynamodb:deleteItem": (_table_ref, ("write", "data"), ("write", "data")),
    "dynamodb:getItem": (_table_ref, ("read", "data"), ("read", "data")),
}


def _state_machine(doc: ResourceDocument) -> Iterable[Fact]:
    """The machine, and an edge to each resource its Task states name in the definition (none when
    the definition could not be read: that unit's gap makes the account's graph incomplete)."""
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, (doc.arn,))
    home = _Home(_arn_parts(doc.arn)[1] if _is_arn(doc.arn) else "aws", doc.region, doc.account_id)
    edges: dict[tuple[str, str], tuple[Mode, int, int]] = {}
    for task in doc.properties.get("TaskTargets") or []:
        spec = _TASK_EDGES.get(str(task.get("Integration")))
        target = spec[0](str(task.get("Target") or ""), home) if spec else None
        if spec is None or target is None:
            continue
        kind, mode = spec[1] if task.get("Waits") else spec[2]
        seen_mode, states, attempts = edges.get((target, kind), (mode, 0, 1))
        # One edge per target and kind: a state that waits makes the machine wait on the target.
        edges[(target, kind)] = (
            "sync" if "sync" in (mode, seen_mode) else mode,
            states + int(task.get("States") or 1),
            max(attempts, int(task.get("Attempts") or 1)),
        )
    for (target, kind), (mode, states, attempts) in sorted(edges.items()):
        # Retries over an asynchronous invoke are Lambda's own (the function's AsyncAttempts).
        retried = attempts if kind != "async-invoke" and attempts > 1 else None
        yield Edge(doc.arn, target, kind, mode, count=states, attempts=retried)


def _load_balancer(doc: ResourceDocument) -> Iterable[Fact]:
    """An Application Load Balancer waits for each function its target groups route to."""
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, (doc.arn,))
    routes: dict[str, int] = {}
    for target in doc.properties.get("LambdaTargets") or []:
        function = target.get("FunctionArn")
        if _is_arn(function):  # target groups of an alias and of its function: one edge
            routes[unqualified(function)] = routes.get(unqualified(function), 0) + 1
    for function, groups in sorted(routes.items()):
        yield Edge(doc.arn, function, "target", "sync", count=groups)


_FUNCTION_IN_URI = re.compile(r"(arn:[\w-]+:lambda:[\w-]+:\d{12}:function:[A-Za-z0-9_-]+)")
_SQS_IN_URI = re.compile(r"^arn:([\w-]+):apigateway:([\w-]+):sqs:path/(\d{12})/([A-Za-z0-9_.-]+)")


def integration_target(uri: str | None, kind: str | None) -> tuple[str, Mode] | None:
    """The resource an API Gateway integration calls and how, or None (HTTP, mocks, stage variables).

    A Lambda integration is synchronous (the API waits for the function); an SQS SendMessage
    integration is asynchronous (the API waits only for the enqueue).
    """
    if kind not in ("AWS", "AWS_PROXY") or not uri:
        return None
    function = _FUNCTION_IN_URI.search(uri)
    if function and "${" not in uri:
        return function.group(1), "sync"
    queue = _SQS_IN_URI.match(uri)
    if queue:
        partition, region, account, name = queue.groups()
        return f"arn:{partition}:sqs:{region}:{account}:{name}", "async"
    return None


def _rest_api(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    methods = p.get("Methods") or []
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, (p.get("id") or "",))
    routes: dict[tuple[str, Mode], int] = {}
    for method in methods:
        found = integration_target(method.get("IntegrationUri"), method.get("IntegrationType"))
        if found:
            routes[found] = routes.get(found, 0) + 1
    for (target, mode), count in sorted(routes.items()):
        yield Edge(doc.arn, target, "integration", mode, count=count)


def _http_stage(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    api_id = p.get("ApiId")
    if not api_id:
        return
    arn = f"arn:aws:apigateway:{doc.region}::/apis/{api_id}"
    name = p.get("ApiName") or api_id
    yield Node(arn, "AWS::ApiGatewayV2::Api", name, doc.region, doc.account_id, (api_id,))
    integrations = p.get("LambdaIntegrations") or []
    for function in sorted({i.get("FunctionArn") for i in integrations if i.get("FunctionArn")}):
        yield Edge(arn, function, "integration", "sync")
    yield from _throttles(arn, p.get("StageName") or doc.name, integrations)


def _throttles(api: str, stage: str, integrations: list[dict[str, Any]]) -> Iterable[Fact]:
    """A stage's largest ``BurstLimit`` per integrated function (the stage collectors' field)."""
    bursts: dict[str, int] = {}
    for integration in integrations:
        function, burst = integration.get("FunctionArn"), integration.get("BurstLimit")
        if _is_arn(function) and isinstance(burst, int) and burst > bursts.get(function, -1):
            bursts[function] = burst
    for function, burst in sorted(bursts.items()):
        yield Throttle(api, function, burst, stage)


def _rest_stage(doc: ResourceDocument) -> Iterable[Fact]:
    """A REST stage adds no node or edge (its API's methods make them): only what it admits."""
    p = doc.properties
    api = doc.arn.split("/stages/", 1)[0]
    yield from _throttles(api, p.get("stageName") or doc.name, p.get("LambdaIntegrations") or [])


def _bucket(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, (doc.name,))
    notifications = p.get("NotificationConfiguration") or {}
    for key, arn_key in (
        ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
        ("QueueConfigurations", "QueueArn"),
        ("TopicConfigurations", "TopicArn"),
    ):
        for target in sorted({c.get(arn_key) for c in notifications.get(key) or [] if _is_arn(c.get(arn_key))}):
            yield Edge(doc.arn, target, "notification", "async")


def _role(doc: ResourceDocument) -> Iterable[Fact]:
    for statement in doc.properties.get("Statements") or []:
        yield Grant(
            role=doc.arn,
            allow=statement.get("Effect") == "Allow",
            actions=tuple(statement.get("NotAction") or statement.get("Action") or ()),
            not_action="NotAction" in statement,
            resources=tuple(statement.get("NotResource") or statement.get("Resource") or ()),
            not_resource="NotResource" in statement,
        )


def _stack(doc: ResourceDocument) -> Iterable[Fact]:
    p = doc.properties
    workload = p.get("RootId") or doc.arn
    name = p.get("RootName") or p.get("StackName") or doc.name
    for resource in p.get("Resources") or []:
        physical = resource.get("PhysicalResourceId")
        if physical:
            yield Member(workload, name, "cloudformation", resource.get("ResourceType") or "", physical)


APPLICATION_TAG = "awsApplication"  # myApplications / AppRegistry: the application's ARN


def application_name(value: str) -> str:
    """The workload name of an ``awsApplication`` tag value (the application's ARN,
    ``arn:aws:resource-groups:<region>:<account>:group/<name>/<id>``): its ``<name>``."""
    return value.split(":group/", 1)[-1].split("/", 1)[0]


def _tags(doc: ResourceDocument, workload_tag: str | None) -> Iterable[Fact]:
    for resource in doc.properties.get("Resources") or []:
        arn, tags = resource.get("ResourceARN") or "", resource.get("Tags") or {}
        application = tags.get(APPLICATION_TAG)
        if application:
            yield Member(application, application_name(application), "tag", "", arn)
        if workload_tag and tags.get(workload_tag):
            yield Member(f"tag:{workload_tag}={tags[workload_tag]}", tags[workload_tag], "tag", "", arn)


EXTRACTORS: dict[str, Callable[[ResourceDocument], Iterable[Fact]]] = {
    "AWS::Lambda::Function": _lambda,
    "AWS::Lambda::EventSourceMapping": _mapping,
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Subscription": _subscription,
    "AWS::Events::Rule": _rule,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::DynamoDB::Table": _table,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::ApiGateway::RestApi": _rest_api,
    "AWS::ApiGateway::Stage": _rest_stage,
    "AWS::ApiGatewayV2::Stage": _http_stage,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _load_balancer,
    "AWS::S3::Bucket": _bucket,
    "AWS::IAM::Role": _role,
    "AWS::CloudFormation::Stack": _stack,
}


def _endpoints(*values: Any) -> tuple[str, ...]:
    """Host names (lower case) among ``values``: strings, {"Address": ...} maps, lists of either."""
    found: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            address = item.get("Address") if isinstance(item, dict) else item
            if isinstance(address, str) and address:
                found.append(address.lower())
    return tuple(found)


def _store(doc: ResourceDocument) -> Iterable[Fact]:
    """A resource a redundancy check judges, as a node named by its endpoints (its blast radius is
    what reaches it; see relaudit.graph.blast). Only when it is collected anyway: these types are
    not graph sources."""
    p = doc.properties
    groups = p.get("NodeGroups") or []
    domain_endpoints = p.get("Endpoints")
    aliases = (
        doc.name,
        *_endpoints(
            p.get("Endpoint"),
            p.get("ReaderEndpoint"),
            p.get("CustomEndpoints"),
            p.get("ConfigurationEndpoint"),
            [g.get("PrimaryEndpoint") for g in groups if isinstance(g, dict)],
            [g.get("ReaderEndpoint") for g in groups if isinstance(g, dict)],
            list(domain_endpoints.values()) if isinstance(domain_endpoints, dict) else None,
        ),
    )
    yield Node(doc.arn, doc.resource_type, doc.name, doc.region, doc.account_id, aliases)


# Types whose redundancy checks carry a blast radius: nodes of the graph, with their endpoints.
STORE_TYPES = (
    "AWS::AmazonMQ::Broker",
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::DMS::ReplicationInstance",
    "AWS::ECS::Service",
    "AWS::EFS::FileSystem",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::MSK::Cluster",
    "AWS::Neptune::DBCluster",
    "AWS::OpenSearchService::Domain",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::Redshift::Cluster",
)
TAGS_TYPE = "AWS::ResourceGroupsTaggingAPI::TaggedResources"
# The resource types the graph is built from: collected whenever a selected check reads the graph.
# The stores too, whatever checks are selected: a function's environment can name one (a data edge a
# shared-store check counts), and `relaudit graph` then shows the graph an audit judges.
SOURCE_TYPES = tuple(sorted((*EXTRACTORS, TAGS_TYPE, *STORE_TYPES)))


def facts_of(doc: ResourceDocument, workload_tag: str | None = None) -> list[Fact]:
    """The graph facts one resource document contributes (none for a type the graph does not read);
    ``workload_tag`` names the tag key whose value is a workload (``relaudit graph --workload-tag``)."""
    if doc.resource_type == TAGS_TYPE:
        return list(_tags(doc, workload_tag))
    extractor = EXTRACTORS.get(doc.resource_type)
    if extractor is not None:
        return list(extractor(doc))
    return list(_store(doc)) if doc.resource_type in STORE_TYPES else []


class FactSink:
    """Collects the facts of every document it is given, per account (a run's document consumer)."""

    def __init__(self, workload_tag: str | None = None) -> None:
        self.by_account: dict[str, list[Fact]] = {}
        self._workload_tag = workload_tag

    def add(self, documents: Iterable[ResourceDocument]) -> None:
        """Keep the facts of ``documents`` (the documents themselves are not kept)."""
        for doc in documents:
            found = facts_of(doc, self._workload_tag)
            if found:
                self.by_account.setdefault(doc.account_id, []).extend(found)
