"""Collector for AWS::SQS::Queue: redrive parsed, dead-letter queues marked, consumers and alarms joined."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.aws import error_code
from relaudit.inventory import alarm_index, listings, queue_access, shapes
from relaudit.inventory.base import CollectorContext, document, paginate, typed_attributes
from relaudit.inventory.joins import guarded

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::SQS::Queue"
_LAMBDA_ACTIONS = listings.FUNCTION_ACTIONS | listings.MAPPING_ACTIONS | listings.INVOKE_CONFIG_ACTIONS
IAM_ACTIONS = frozenset(
    {
        "sqs:ListQueues",
        "sqs:GetQueueAttributes",
        *_LAMBDA_ACTIONS,
        *listings.SUBSCRIPTION_ACTIONS,
        *listings.RULE_ACTIONS,
        *listings.SCHEDULE_ACTIONS,
        *alarm_index.IAM_ACTIONS,
    }
)
_JSON_ATTRIBUTES = ("RedrivePolicy", "RedriveAllowPolicy", "Policy")
_ALARMED_METRICS = ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage")
_CONSUMER_FIELDS = ("ConsumerFunctions", "ConsumerTimeoutMultiple")
_DLQ_FIELDS = ("IsDeadLetterQueue", "DeadLetterSources")
DOCUMENT = shapes.fields(
    shapes.Attributes("sqs", "QueueAttributeName"),
    QueueUrl=shapes.ANY,
    QueueName=shapes.ANY,
    RedrivePolicy=shapes.REDRIVE_POLICY,
    RedriveAllowPolicy=shapes.fields(redrivePermission=shapes.ANY, sourceQueueArns=shapes.ANY),
    Policy=shapes.ANY,
    DeadLetterSources=shapes.ListOf(shapes.fields(Type=shapes.ANY, Arn=shapes.ANY)),
    IsDeadLetterQueue=shapes.ANY,
    DeclaresDeadLetterSources=shapes.ANY,
    SourceQueuesMaxRetentionPeriod=shapes.ANY,
    DeadLetterTargetExists=shapes.ANY,
    ConsumerFunctions=shapes.ListOf(
        shapes.fields(
            FunctionArn=shapes.ANY, Timeout=shapes.ANY, MaximumBatchingWindowInSeconds=shapes.ANY, State=shapes.ANY
        )
    ),
    ConsumerTimeoutMultiple=shapes.ANY,
    Alarms=shapes.fields(ApproximateNumberOfMessagesVisible=shapes.ALARMS, ApproximateAgeOfOldestMessage=shapes.ALARMS),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("sqs", "ListQueues", "QueueUrls[]"),
    shapes.Api("sqs", "ListQueues", "QueueUrls[]"),
    shapes.Api("sqs", "GetQueueAttributes", "Attributes"),
    shapes.Api("lambda", "ListFunctions", "Functions[]", ("FunctionArn", "Timeout", "DeadLetterConfig.TargetArn")),
    shapes.Api(
        "lambda",
        "ListFunctionEventInvokeConfigs",
        "FunctionEventInvokeConfigs[]",
        ("FunctionArn", "DestinationConfig.OnFailure.Destination"),
    ),
    shapes.Api(
        "lambda",
        "ListEventSourceMappings",
        "EventSourceMappings[]",
        (
            "EventSourceArn",
            "FunctionArn",
            "MaximumBatchingWindowInSeconds",
            "State",
            "EventSourceMappingArn",
            "UUID",
            "DestinationConfig.OnFailure.Destination",
        ),
    ),
    shapes.Api("events", "ListTargetsByRule", "Targets[]", ("DeadLetterConfig.Arn",)),
    shapes.Api("scheduler", "ListSchedules", "Schedules[]", ("Arn", "Name", "GroupName")),
    shapes.Api("scheduler", "GetSchedule", "", ("Target.DeadLetterConfig.Arn",)),
    shapes.Api("sns", "ListSubscriptions", "Subscriptions[]", ("SubscriptionArn",)),
    alarm_index.READS,
)


Source = dict[str, str]  # {"Type": CloudFormation type, "Arn": ...}


def _typed(attributes: dict[str, str]) -> dict[str, Any]:
    typed = typed_attributes(attributes, _JSON_ATTRIBUTES, numbers=True)
    redrive = typed.get("RedrivePolicy")
    if isinstance(redrive, dict) and str(redrive.get("maxReceiveCount", "")).isdigit():
        redrive["maxReceiveCount"] = int(redrive["maxReceiveCount"])  # SQS echoes a string if given one
    return typed


def _declares_sources(policy: Any) -> bool:
    """A RedriveAllowPolicy that names source queues marks a queue built to be a DLQ."""
    return isinstance(policy, dict) and policy.get("redrivePermission") == "byQueue"


def _unqualified(function_arn: str) -> str:
    return ":".join(function_arn.split(":")[:7])  # drop a :version or :alias qualifier


def _lambda_dead_letter_uses(ctx: CollectorContext) -> Iterator[tuple[str, Source]]:
    """(queue ARN, user) for function DLQs, async on-failure destinations and mapping on-failure destinations."""
    function_type = "AWS::Lambda::Function"

    def configs(function: dict[str, Any]) -> list[dict[str, Any]]:
        return listings.event_invoke_configs(ctx, function["FunctionArn"])

    functions = listings.functions(ctx)
    for function, function_configs in zip(functions, ctx.map(configs, functions), strict=True):
        target = (function.get("DeadLetterConfig") or {}).get("TargetArn")
        if target:
            yield target, {"Type": function_type, "Arn": function["FunctionArn"]}
        for config in function_configs:
            destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            if destination:
                yield destination, {"Type": function_type, "Arn": config.get("FunctionArn") or function["FunctionArn"]}
    for mapping in listings.event_source_mappings(ctx):
        destination = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if destination:
            arn = mapping.get("EventSourceMappingArn") or mapping["UUID"]
            yield destination, {"Type": "AWS::Lambda::EventSourceMapping", "Arn": arn}


def _schedule_dead_letter_uses(ctx: CollectorContext) -> Iterator[tuple[str, Source]]:
    """(queue ARN, schedule) for EventBridge Scheduler targets' DLQs (GetSchedule: ListSchedules omits them)."""
    for summary in listings.schedules(ctx):
        schedule = listings.schedule(ctx, summary["Name"], summary.get("GroupName") or "default")
        dlq = ((schedule or {}).get("Target") or {}).get("DeadLetterConfig") or {}
        if dlq.get("Arn"):
            yield dlq["Arn"], {"Type": "AWS::Scheduler::Schedule", "Arn": summary.get("Arn") or summary["Name"]}


def _messaging_dead_letter_uses(ctx: CollectorContext) -> Iterator[tuple[str, Source]]:
    """(queue ARN, user) for SNS subscription redrive policies and EventBridge target DLQs."""
    for subscription in listings.subscriptions(ctx):
        redrive = subscription.get("RedrivePolicy")
        if isinstance(redrive, dict) and redrive.get("deadLetterTargetArn"):
            source = {"Type": "AWS::SNS::Subscription", "Arn": subscription["SubscriptionArn"]}
            yield redrive["deadLetterTargetArn"], source
    for rule in listings.rules_with_targets(ctx):
        for target in rule["Targets"]:
            dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
            if dlq:
                yield dlq, {"Type": "AWS::Events::Rule", "Arn": rule["Arn"]}


def _other_dead_letter_uses(ctx: CollectorContext) -> list[tuple[str, Source]]:
    return [*_lambda_dead_letter_uses(ctx), *_messaging_dead_letter_uses(ctx), *_schedule_dead_letter_uses(ctx)]


def _dead_letter_sources(
    ctx: CollectorContext, queues: list[dict[str, Any]], everything: bool
) -> tuple[dict[str, list[Source]], bool]:
    """Queue ARN -> what sends it failed messages, and whether that is known completely.

    Other queues' redrive policies are always read (they are already in hand); with
    ``everything``, Lambda, SNS and EventBridge users too, as an optional join.
    """
    sources: dict[str, list[Source]] = defaultdict(list)
    for queue in queues:
        redrive = queue.get("RedrivePolicy")
        if isinstance(redrive, dict) and redrive.get("deadLetterTargetArn"):
            sources[redrive["deadLetterTargetArn"]].append({"Type": RESOURCE_TYPE, "Arn": queue["QueueArn"]})
    if not everything:
        return sources, True
    others = guarded(ctx, "DeadLetterSources", _other_dead_letter_uses, ctx)
    for arn, source in others or []:
        if source not in sources[arn]:
            sources[arn].append(source)
    return sources, others is not None


def _consumers_by_queue(ctx: CollectorContext) -> dict[str, list[dict[str, Any]]]:
    """Queue ARN -> the Lambda functions polling it, with their timeout (ListFunctions) and
    batching window; built once for all the region's queues."""
    timeouts = {function["FunctionArn"]: function.get("Timeout") for function in listings.functions(ctx)}
    consumers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for mapping in listings.event_source_mappings(ctx):
        consumers[mapping.get("EventSourceArn") or ""].append(
            {
                "FunctionArn": mapping.get("FunctionArn"),
                "Timeout": timeouts.get(_unqualified(mapping.get("FunctionArn") or "")),
                "MaximumBatchingWindowInSeconds": mapping.get("MaximumBatchingWindowInSeconds") or 0,
                "State": mapping.get("State"),
            }
        )
    return consumers


def _timeout_multiple(visibility: int, consumers: list[dict[str, Any]]) -> float | None:
    """Smallest (visibility timeout - batching window) / function timeout over the consumers."""
    multiples = [
        (visibility - consumer["MaximumBatchingWindowInSeconds"]) / consumer["Timeout"]
        for consumer in consumers
        if consumer.get("Timeout")
    ]
    return round(min(multiples), 2) if multiples else None


def _read_queues(ctx: CollectorContext) -> list[dict[str, Any]]:
    sqs = ctx.client("sqs")

    def read(url: str) -> dict[str, Any] | None:
        try:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        except ClientError as exc:
            if error_code(exc) in queue_access.QUEUE_GONE_CODES:
                return None
            raise
        return {"QueueUrl": url, "QueueName": url.rsplit("/", 1)[-1], **_typed(attributes)}

    urls = paginate(sqs, "list_queues", "QueueUrls", ctx.page_size or 1000)
    return [queue for queue in ctx.map(read, urls) if queue is not None]


def _enrich(
    ctx: CollectorContext,
    queue: dict[str, Any],
    sources: tuple[dict[str, list[Source]], bool],
    retention: dict[str, int],
    consumers_by_queue: dict[str, list[dict[str, Any]]] | None,
) -> None:
    arn = queue["QueueArn"]
    own = sources[0].get(arn, [])
    queue["DeadLetterSources"] = own
    if own or sources[1]:  # unknown (left out) when the join failed and no queue redrives here
        queue["IsDeadLetterQueue"] = bool(own)
    queue["DeclaresDeadLetterSources"] = _declares_sources(queue.get("RedriveAllowPolicy"))
    source_retention = [retention[s["Arn"]] for s in own if s["Type"] == RESOURCE_TYPE and s["Arn"] in retention]
    queue["SourceQueuesMaxRetentionPeriod"] = max(source_retention, default=None)
    target = (
        (queue.get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        if isinstance(queue.get("RedrivePolicy"), dict)
        else None
    )
    local = target and target.split(":")[3:5] == [ctx.region, ctx.account_id]
    queue["DeadLetterTargetExists"] = (target in retention) if local else None
    if consumers_by_queue is not None:
        consumers = consumers_by_queue.get(arn, [])
        queue["ConsumerFunctions"] = consumers
        queue["ConsumerTimeoutMultiple"] = _timeout_multiple(int(queue.get("VisibilityTimeout") or 0), consumers)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every queue with its attributes (numbers and JSON typed) plus:

    - ``DeadLetterSources`` ``[{Type, Arn}]`` and ``IsDeadLetterQueue``: what sends the queue failed
      messages. Other queues' redrive policies always; when a check reads these fields, also Lambda
      function DLQs, Lambda async and event-source-mapping on-failure destinations, SNS subscription
      redrive policies, EventBridge rule target DLQs and EventBridge Scheduler target DLQs, so a DLQ
      is never flagged for lacking its own;
    - ``DeclaresDeadLetterSources``: its RedriveAllowPolicy names source queues;
    - ``SourceQueuesMaxRetentionPeriod``: the longest retention among queues redriving to it;
    - ``DeadLetterTargetExists``: its redrive target is a queue in this account and region that
      exists (null when the target is elsewhere and cannot be listed);
    - ``ConsumerFunctions`` and ``ConsumerTimeoutMultiple``: Lambda functions polling it and the
      smallest (VisibilityTimeout - batching window) / function timeout among them;
    - ``Alarms`` ``{ApproximateNumberOfMessagesVisible: [...], ApproximateAgeOfOldestMessage: [...]}``.

    Every join beyond SQS is optional: when AWS refuses one, its fields are left out (a queue no
    other queue redrives to then has no ``IsDeadLetterQueue``) and the unit is reported incomplete.

    SQS returns NextToken only when MaxResults is sent, hence the explicit page size.
    """
    queues = _read_queues(ctx)
    if not queues:
        return
    sources = _dead_letter_sources(ctx, queues, any(ctx.wants(f) for f in _DLQ_FIELDS))
    consumers = (
        guarded(ctx, "ConsumerFunctions", _consumers_by_queue, ctx)
        if any(ctx.wants(f) for f in _CONSUMER_FIELDS)
        else None
    )
    retention = {q["QueueArn"]: int(q.get("MessageRetentionPeriod") or 0) for q in queues}
    alarms = guarded(ctx, "Alarms", alarm_index.load_alarms, ctx) if ctx.wants("Alarms") else None
    for queue in queues:
        _enrich(ctx, queue, sources, retention, consumers)
        if alarms is not None:
            queue["Alarms"] = {
                metric: alarms.find("AWS/SQS", metric, "QueueName", queue["QueueName"]) for metric in _ALARMED_METRICS
            }
        yield document(ctx, RESOURCE_TYPE, queue["QueueArn"], queue["QueueName"], queue)
