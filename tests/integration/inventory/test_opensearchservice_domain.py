"""AWS::OpenSearchService::Domain collector on moto: DescribeDomains in batches of five."""

from __future__ import annotations

from typing import Any

import boto3

from tests.integration.inventory.catalog_support import verdicts
from tests.integration.inventory.seed_support import RESILIENT_CLUSTER


def test_domains_described_in_batches(aws: None, collect: Any, calls: Any) -> None:
    opensearch = boto3.client("opensearch", region_name="us-east-1")
    opensearch.create_domain(DomainName="resilient", ClusterConfig=RESILIENT_CLUSTER)
    for i in range(5):
        opensearch.create_domain(DomainName=f"small-{i}")
    seen = calls("opensearch")

    docs = collect("AWS::OpenSearchService::Domain")

    assert len(docs) == 6
    assert seen.count("DescribeDomains") == 2, "six domains, at most five per DescribeDomains"
    assert docs["resilient"].arn == "arn:aws:es:us-east-1:123456789012:domain/resilient"
    sample = {"resilient": docs["resilient"], "small-0": docs["small-0"]}
    for check in ("opensearch-domain-data-nodes-fault-tolerant", "opensearch-domain-dedicated-master-nodes"):
        assert verdicts(check, sample) == {"resilient": "PASSED", "small-0": "FAILED"}, check
