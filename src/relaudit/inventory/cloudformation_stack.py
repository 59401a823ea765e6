"""Collector for AWS::CloudFormation::Stack: each live stack with the resources it manages (the
workload graph's CloudFormation workloads)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.aws import error_code
from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::CloudFormation::Stack"
IAM_ACTIONS = frozenset({"cloudformation:DescribeStacks", "cloudformation:ListStackResources"})
_GONE = ("DELETE_COMPLETE",)
_SUMMARY = "StackResourceSummaries[]"
DOCUMENT = shapes.fields(
    StackName=shapes.Api("cloudformation", "DescribeStacks", "Stacks[].StackName"),
    StackStatus=shapes.Api("cloudformation", "DescribeStacks", "Stacks[].StackStatus"),
    RootId=shapes.Api("cloudformation", "DescribeStacks", "Stacks[].RootId"),
    RootName=shapes.ANY,
    Tags=shapes.Api("cloudformation", "DescribeStacks", "Stacks[].Tags"),
    Resources=shapes.ListOf(
        shapes.fields(
            LogicalResourceId=shapes.Api("cloudformation", "ListStackResources", f"{_SUMMARY}.LogicalResourceId"),
            ResourceType=shapes.Api("cloudformation", "ListStackResources", f"{_SUMMARY}.ResourceType"),
            PhysicalResourceId=shapes.Api("cloudformation", "ListStackResources", f"{_SUMMARY}.PhysicalResourceId"),
        )
    ),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("cloudformation", "DescribeStacks", "Stacks[]", ("StackId", "StackName", "StackStatus", "RootId")),
    shapes.Api("cloudformation", "ListStackResources", _SUMMARY, ("PhysicalResourceId", "ResourceStatus")),
)


def _resources(ctx: CollectorContext, stack_id: str) -> list[dict[str, Any]] | None:
    cfn = ctx.client("cloudformation")
    try:
        return [
            {
                "LogicalResourceId": r.get("LogicalResourceId"),
                "ResourceType": r.get("ResourceType"),
                "PhysicalResourceId": r.get("PhysicalResourceId"),
            }
            for r in paginate(cfn, "list_stack_resources", "StackResourceSummaries", None, StackName=stack_id)
            if r.get("PhysicalResourceId") and not str(r.get("ResourceStatus", "")).startswith("DELETE_")
        ]
    except ClientError as exc:
        if error_code(exc) == "ValidationError":
            return None  # deleted since it was listed
        raise


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every stack (DescribeStacks) with ``Resources`` ``[{LogicalResourceId, ResourceType,
    PhysicalResourceId}]`` (ListStackResources, paginated: DescribeStackResources stops at 100) and,
    for a nested stack, ``RootName``: the root stack's name (``RootId`` is its id).
    """
    stacks = [
        s for s in paginate(ctx.client("cloudformation"), "describe_stacks", "Stacks") if s["StackStatus"] not in _GONE
    ]
    names = {s["StackId"]: s["StackName"] for s in stacks}
    for stack, resources in zip(stacks, ctx.map(lambda s: _resources(ctx, s["StackId"]), stacks), strict=True):
        if resources is None:
            continue
        properties = {
            "StackName": stack["StackName"],
            "StackStatus": stack["StackStatus"],
            "RootId": stack.get("RootId"),
            "RootName": names.get(stack.get("RootId") or ""),
            "Tags": stack.get("Tags") or [],
            "Resources": resources,
        }
        yield document(ctx, RESOURCE_TYPE, stack["StackId"], stack["StackName"], properties)
