"""Collector for the tags of every tagged resource of a region (Resource Groups Tagging API), one
document per region: the workload graph reads workloads from ``awsApplication`` and a named tag."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

# No CloudFormation type holds tags; this pseudo-type names the unit (and its coverage gaps).
RESOURCE_TYPE = "AWS::ResourceGroupsTaggingAPI::TaggedResources"
IAM_ACTIONS = frozenset({"tag:GetResources"})


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield one document for the region, ``Resources`` ``[{ResourceARN, Tags: {key: value}}]``
    (GetResources, 100 resources a page): one call per hundred tagged resources."""
    tagging = ctx.client("resourcegroupstaggingapi")
    resources = [
        {"ResourceARN": item["ResourceARN"], "Tags": {t["Key"]: t["Value"] for t in item.get("Tags") or []}}
        for item in paginate(tagging, "get_resources", "ResourceTagMappingList", ctx.page_size or 100)
    ]
    arn = f"arn:{ctx.partition}:tag:{ctx.region}:{ctx.account_id}:tagged-resources"
    yield document(ctx, RESOURCE_TYPE, arn, f"tags/{ctx.region}", {"Resources": resources})
