"""Collector for AWS::OpenSearchService::Domain (OpenSearch and Elasticsearch engines)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::OpenSearchService::Domain"
IAM_ACTIONS = frozenset({"es:ListDomainNames", "es:DescribeDomains"})
DESCRIBE_BATCH = 5  # DescribeDomains accepts at most 5 names per call
DOCUMENT = shapes.fields(
    shapes.Api("opensearch", "DescribeDomains", "DomainStatusList[]", ("ARN", "DomainName", "Deleted")),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("opensearch", "ListDomainNames", "DomainNames[]", ("DomainName",)),)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every domain's status (ClusterConfig holds node counts and zone awareness).

    ListDomainNames has no pagination: it returns every domain of the region in one response.
    """
    opensearch = ctx.client("opensearch")
    names = sorted(item["DomainName"] for item in opensearch.list_domain_names().get("DomainNames") or [])
    for start in range(0, len(names), DESCRIBE_BATCH):
        batch = names[start : start + DESCRIBE_BATCH]
        for domain in opensearch.describe_domains(DomainNames=batch).get("DomainStatusList") or []:
            if domain.get("Deleted"):
                continue
            yield document(ctx, RESOURCE_TYPE, domain["ARN"], domain["DomainName"], domain)
