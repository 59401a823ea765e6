"""Collector for AWS::Lambda::Function, enriched with concurrency, async config and subnet AZs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::Lambda::Function"
IAM_ACTIONS = frozenset(
    {
        "lambda:ListFunctions",
        "lambda:GetFunction",
        "lambda:GetFunctionEventInvokeConfig",
        "ec2:DescribeSubnets",
    }
)
_FILTER_VALUES_MAX = 200


def _subnet_zones(ctx: CollectorContext, subnet_ids: set[str]) -> dict[str, str]:
    """Map subnet id to Availability Zone; a filter (not SubnetIds) so a deleted subnet is no error."""
    zones: dict[str, str] = {}
    ids = sorted(subnet_ids)
    ec2 = ctx.client("ec2")
    for start in range(0, len(ids), _FILTER_VALUES_MAX):
        chunk = ids[start : start + _FILTER_VALUES_MAX]
        for subnet in paginate(
            ec2, "describe_subnets", "Subnets", 1000, Filters=[{"Name": "subnet-id", "Values": chunk}]
        ):
            zones[subnet["SubnetId"]] = subnet["AvailabilityZone"]
    return zones


def _event_invoke_config(ctx: CollectorContext, function_arn: str) -> dict[str, Any] | None:
    try:
        config: dict[str, Any] = ctx.client("lambda").get_function_event_invoke_config(FunctionName=function_arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return config


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every function with ``ReservedConcurrentExecutions``, ``EventInvokeConfig`` and
    ``VpcConfig.SubnetAvailabilityZones``, each fetched only when a selected check reads it.

    GetFunction is used for concurrency because it sits in Lambda's 100 requests/s bucket, where
    GetFunctionConcurrency shares the 15/s control-plane bucket.
    """
    lam = ctx.client("lambda")
    functions = list(paginate(lam, "list_functions", "Functions", ctx.page_size))
    subnet_ids = {s for fn in functions for s in (fn.get("VpcConfig") or {}).get("SubnetIds") or []}
    zones = _subnet_zones(ctx, subnet_ids) if subnet_ids and ctx.wants("SubnetAvailabilityZones") else {}
    for function in functions:
        arn = function["FunctionArn"]
        properties = dict(function)
        if ctx.wants("ReservedConcurrentExecutions"):
            concurrency = lam.get_function(FunctionName=arn).get("Concurrency") or {}
            properties["ReservedConcurrentExecutions"] = concurrency.get("ReservedConcurrentExecutions")
        if ctx.wants("EventInvokeConfig"):
            properties["EventInvokeConfig"] = _event_invoke_config(ctx, arn)
        vpc = function.get("VpcConfig")
        if vpc and ctx.wants("SubnetAvailabilityZones"):
            subnets = vpc.get("SubnetIds") or []
            properties["VpcConfig"] = {
                **vpc,
                "SubnetAvailabilityZones": [zones[s] for s in subnets if s in zones],
            }
        yield document(ctx, RESOURCE_TYPE, arn, function["FunctionName"], properties)
