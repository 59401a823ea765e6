"""The whole audit on moto: every planted defect found, no false alarm, gaps isolated per unit."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from relaudit.catalog.loader import load_catalog
from relaudit.demo.moto_gaps import install_hooks
from relaudit.demo.seed import seed
from relaudit.errors import BadRequestError
from relaudit.inventory import COLLECTORS
from relaudit.models.request import AuditRequest
from relaudit.run import run

REGIONS = ("us-east-1", "eu-west-1")
CATALOG = load_catalog(known_types=COLLECTORS)


@pytest.fixture
def planted(aws: None, factory: Any) -> Any:
    session = boto3.session.Session()
    install_hooks(factory, REGIONS)  # moto lacks GetAccountSettings, ListProtectedResources, most quotas
    return seed(lambda service, region: session.client(service, region_name=region), REGIONS)


def assert_planted(found: dict[tuple[str, str, str], str], planted: Any, skip: Any = lambda key: False) -> None:
    """Every planted status is found, and every FAILED finding was planted: no miss, no false alarm."""
    expected = {(p.region, p.check_id, p.name): p.expect for p in planted if not skip((p.region, p.check_id, p.name))}
    assert {key: found.get(key) for key in expected} == expected
    unplanted = sorted(key for key, status in found.items() if status == "FAILED" and key not in expected)
    assert unplanted == [], "FAILED findings nobody planted"


def statuses(result: Any) -> dict[tuple[str, str, str], str]:
    return {(f.region, f.check_id, f.resource_name): f.status.value for f in result.findings}


def test_every_planted_status_and_nothing_else(planted: Any, factory: Any) -> None:
    result = run(AuditRequest(regions=list(REGIONS)), CATALOG, factory)
    assert_planted(statuses(result), planted)
    assert result.summary.result == "complete"
    assert result.summary.findings["FAILED"] == sum(p.expect == "FAILED" for p in planted)
    assert result.coverage_gaps == []


def test_rerun_gives_the_same_ids(planted: Any, factory: Any) -> None:
    first = run(AuditRequest(regions=["us-east-1"]), CATALOG, factory)
    second = run(AuditRequest(regions=["us-east-1"]), CATALOG, factory)
    assert [f.id for f in first.findings] == [f.id for f in second.findings]
    assert len({f.id for f in first.findings}) == len(first.findings)


def test_check_selection_collects_only_needed_types(planted: Any, factory: Any) -> None:
    seen: list[str] = []
    for service in ("rds", "sqs", "lambda", "elbv2", "apigateway"):
        factory.client(service, "us-east-1").meta.events.register(
            "before-call", lambda model, **_: seen.append(model.service_model.service_name)
        )
    request = AuditRequest(regions=["us-east-1"], checks=["rds-db-instance-multi-az"])
    result = run(request, CATALOG, factory)
    assert {f.check_id for f in result.findings} == {"rds-db-instance-multi-az"}
    assert set(seen) == {"rds"}


def test_enrichment_calls_follow_the_selected_checks(planted: Any, factory: Any) -> None:
    """Only the reserved-concurrency check selected: no event-invoke-config or subnet calls."""
    seen: list[str] = []
    for service in ("lambda", "ec2"):
        factory.client(service, "us-east-1").meta.events.register(
            "before-call", lambda model, **_: seen.append(model.name)
        )
    run(AuditRequest(regions=["us-east-1"], checks=["lambda-function-reserved-concurrency-set"]), CATALOG, factory)
    assert "GetFunction" in seen
    assert "ListFunctionEventInvokeConfigs" not in seen
    assert "DescribeSubnets" not in seen


def deny(client: Any, operation: str, code: str = "AccessDeniedException") -> None:
    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        response = {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("https://injected", 403, {}, None), response

    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register_first(event, handler)


def test_denied_unit_is_a_gap_and_others_still_audited(planted: Any, factory: Any) -> None:
    deny(factory.client("sqs", "eu-west-1"), "ListQueues")
    result = run(AuditRequest(regions=list(REGIONS)), CATALOG, factory)

    assert result.summary.result == "partial"
    assert [(g.region, g.resource_type, g.error_code) for g in result.coverage_gaps] == [
        ("eu-west-1", "AWS::SQS::Queue", "AccessDeniedException")
    ]
    found = statuses(result)
    assert not any(region == "eu-west-1" and check.startswith("sqs-") for region, check, _ in found)
    assert_planted(found, planted, skip=lambda key: key[0] == "eu-west-1" and key[1].startswith("sqs-"))


def test_enrichment_failure_is_a_gap_for_that_unit(planted: Any, factory: Any) -> None:
    deny(factory.client("lambda", "us-east-1"), "GetPolicy")
    result = run(AuditRequest(regions=["us-east-1"]), CATALOG, factory)
    assert [(g.resource_type, g.error_code) for g in result.coverage_gaps] == [
        ("AWS::Lambda::Function", "AccessDeniedException")
    ]


def test_a_refused_shared_lookup_is_a_gap_for_every_unit_that_reads_it(planted: Any, factory: Any) -> None:
    """Event-invoke configs are read once for the Lambda collector and the SQS dead-letter join:
    refused, both units say so (the SQS one keeps its documents, without the join's fields)."""
    deny(factory.client("lambda", "us-east-1"), "ListFunctionEventInvokeConfigs")
    result = run(AuditRequest(regions=["us-east-1"]), CATALOG, factory)
    assert [(g.resource_type, g.error_code) for g in result.coverage_gaps] == [
        ("AWS::Lambda::Function", "AccessDeniedException"),
        ("AWS::SQS::Queue", "AccessDeniedException"),
    ]
    assert any(f.resource_type == "AWS::SQS::Queue" for f in result.findings)


def test_lookups_several_collectors_read_are_made_once_per_region(planted: Any, factory: Any) -> None:
    """All checks: ListFunctions, event-invoke configs, alarms, stages... once each, whoever asks."""
    seen: Counter[tuple[str, str]] = Counter()
    services = ("lambda", "cloudwatch", "apigateway", "apigatewayv2", "sns", "events", "backup", "rds")
    for service in services:
        factory.client(service, "us-east-1").meta.events.register(
            "before-parameter-build",
            lambda model, params, **_: seen.update(
                [(model.name, str(params.get("FunctionName") or params.get("restApiId") or params.get("ApiId")))]
            ),
        )
    run(AuditRequest(regions=["us-east-1"]), CATALOG, factory)
    repeated = {call: count for call, count in seen.items() if count > 1}
    assert seen[("ListFunctions", "None")] == 1
    assert any(name == "ListFunctionEventInvokeConfigs" for name, _ in seen)
    assert repeated == {}


def test_unknown_region_and_check_are_bad_requests(aws: None, factory: Any) -> None:
    with pytest.raises(BadRequestError, match="unknown region 'us-nowhere-1'"):
        run(AuditRequest(regions=["us-nowhere-1"]), CATALOG, factory)
    with pytest.raises(BadRequestError, match="unknown check id 'no-such-check'"):
        run(AuditRequest(regions=["us-east-1"], checks=["no-such-check"]), CATALOG, factory)


def test_regions_default_to_enabled_ones(aws: None, factory: Any) -> None:
    """DescribeRegions is asked for opted-in and opt-in-not-required regions only."""
    sent: list[dict[str, Any]] = []
    factory.client("ec2").meta.events.register(
        "provide-client-params.ec2.DescribeRegions", lambda params, **_: sent.append(params)
    )
    result = run(AuditRequest(checks=["rds-db-instance-multi-az"]), CATALOG, factory)
    assert sent[0]["Filters"] == [{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}]
    assert "us-east-1" in result.summary.regions
    assert len(result.summary.regions) > 3
