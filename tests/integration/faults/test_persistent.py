"""Persistent errors become coverage gaps that name account, region, type and error; nothing else is lost.

Each fault is a botocore ``before-send`` hook answering with the error AWS sends (in the protocol
of the service), so it goes through the production retry handler: refusals are not retried,
unreachable endpoints are retried and then given up.
"""

from __future__ import annotations

from typing import Any

import pytest

from relaudit.inventory import load_collector
from tests.integration.faults.conftest import ACCOUNT, REGIONS, findings_of
from tests.support.faults import (
    Faults,
    access_denied,
    credentials_expired,
    endpoint_unreachable,
    region_not_opted_in,
)


def dependents(catalog: Any, iam_prefix: str) -> set[str]:
    """Resource types whose collectors declare an action of ``iam_prefix`` (who may be hit)."""
    return {
        resource_type
        for resource_type in catalog.resource_types()
        if any(action.startswith(iam_prefix + ":") for action in load_collector(resource_type).IAM_ACTIONS)
    }


def assert_gaps_name_everything(result: Any, codes: set[str]) -> None:
    for gap in result.coverage_gaps:
        assert gap.account_id == ACCOUNT
        assert gap.region in REGIONS
        assert gap.resource_type.startswith("AWS::")
        assert gap.error_code in codes
        assert gap.error_code in gap.message or gap.error_code == "EndpointConnectionError"
    assert result.summary.result == "partial"
    assert result.summary.coverage_gaps == len(result.coverage_gaps)


def assert_nothing_else_lost(result: Any, clean: Any) -> None:
    """Every finding outside the gaps is there, unchanged; none is invented.

    A unit whose optional join failed is a gap but keeps its documents (IncompleteUnitError): its
    findings may be fewer or not applicable, never a failure the clean run did not report.
    """
    missing = {(g.region, g.resource_type) for g in result.coverage_gaps}
    kept = [f for f in findings_of(clean) if (f["region"], f["resource_type"]) not in missing]
    assert [f for f in findings_of(result) if (f["region"], f["resource_type"]) not in missing] == kept
    failed_clean = {f["id"] for f in findings_of(clean) if f["status"] == "FAILED"}
    assert {f["id"] for f in findings_of(result) if f["status"] == "FAILED"} <= failed_clean


@pytest.mark.parametrize(
    ("service", "owned_type", "code"),
    [
        ("lambda", "AWS::Lambda::Function", "AccessDeniedException"),  # REST-JSON
        ("rds", "AWS::RDS::DBInstance", "AccessDenied"),  # query
        ("sqs", "AWS::SQS::Queue", "AccessDeniedException"),  # JSON
        ("ec2", "AWS::Lambda::Function", "UnauthorizedOperation"),  # ec2: only the subnet enrichment
    ],
)
def test_access_denied_to_one_service(
    service: str, owned_type: str, code: str, make_factory: Any, audit: Any, clean: Any, catalog: Any
) -> None:
    faults = Faults(rules=[access_denied(service)])
    result = audit(make_factory(faults))
    gap_types = {g.resource_type for g in result.coverage_gaps}
    assert {(g.region, g.resource_type) for g in result.coverage_gaps if g.resource_type == owned_type} == {
        (region, owned_type) for region in REGIONS
    }
    assert gap_types <= dependents(catalog, service), "only units that call the denied service may be hit"
    assert_gaps_name_everything(result, {code})
    assert_nothing_else_lost(result, clean)
    assert faults.retries == 0, "a refusal is not retried"


def test_region_not_opted_in(make_factory: Any, audit: Any, clean: Any, catalog: Any) -> None:
    faults = Faults(rules=[region_not_opted_in("eu-west-1")])
    result = audit(make_factory(faults))
    assert {(g.region, g.resource_type) for g in result.coverage_gaps} == {
        ("eu-west-1", t) for t in catalog.resource_types()
    }
    assert_gaps_name_everything(result, {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure"})
    assert_nothing_else_lost(result, clean)
    assert {f.region for f in result.findings} == {"us-east-1"}
    assert faults.retries == 0


def test_service_not_offered_in_a_region(make_factory: Any, audit: Any, clean: Any) -> None:
    faults = Faults(rules=[endpoint_unreachable("apigateway", "eu-west-1")])
    result = audit(make_factory(faults))
    assert {(g.region, g.resource_type, g.error_code) for g in result.coverage_gaps} == {
        ("eu-west-1", "AWS::ApiGateway::Stage", "EndpointConnectionError"),
        ("eu-west-1", "AWS::ApiGatewayV2::Stage", "EndpointConnectionError"),
    }
    assert_gaps_name_everything(result, {"EndpointConnectionError"})
    assert_nothing_else_lost(result, clean)
    assert faults.attempts[5] >= 2, "a connection error is retried to the last attempt before the gap"


def test_credentials_expired_mid_run(make_factory: Any, audit: Any, catalog: Any) -> None:
    faults = Faults(rules=[credentials_expired()])
    result = audit(make_factory(faults))
    assert {(g.region, g.resource_type) for g in result.coverage_gaps} == {
        (r, t) for r in REGIONS for t in catalog.resource_types()
    }
    assert_gaps_name_everything(result, {"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
    assert list(result.findings) == []
    assert faults.retries == 0
