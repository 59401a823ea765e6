"""The ASFF mapping: golden files, every check's findings valid for botocore and for the real service's rules."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from relaudit.catalog.evaluate import evaluate
from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Severity, Status
from relaudit.models.resource import ResourceDocument
from relaudit.sinks.asff import (
    ASFF_RESOURCE_TYPES,
    MAX_FINDING_BYTES,
    asff_problems,
    content_hash,
    encoded_size,
    to_asff,
)
from tests.integration.sinks.helpers import assert_valid_asff, botocore_errors, make_finding

GOLDEN = Path(__file__).parent / "golden"
CREATED, UPDATED = "2026-01-02T03:04:05.006Z", "2026-02-03T04:05:06.007Z"
CATALOG = load_catalog(known_types=COLLECTORS)
DETAIL_TYPES = set(botocore.session.get_session().get_service_model("securityhub").shape_for("ResourceDetails").members)


def _golden(name: str, asff: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(asff, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)"


@pytest.mark.parametrize(
    ("name", "status", "record_state"),
    [
        ("asff-failed", Status.FAILED, "ACTIVE"),
        ("asff-passed", Status.PASSED, "ACTIVE"),
        ("asff-failed-archived", Status.FAILED, "ARCHIVED"),
        ("asff-not-applicable-archived", Status.NOT_APPLICABLE, "ARCHIVED"),
    ],
)
def test_golden(name: str, status: Status, record_state: Any) -> None:
    finding = make_finding(status=status)
    asff = to_asff(finding, created_at=CREATED, updated_at=UPDATED, record_state=record_state)
    _golden(name, asff)
    assert_valid_asff([asff])
    assert asff["Id"] == finding.id


def test_not_applicable_is_never_sent_active() -> None:
    with pytest.raises(ValueError, match="NOT_APPLICABLE"):
        to_asff(make_finding(status=Status.NOT_APPLICABLE), created_at=CREATED, updated_at=UPDATED)


def test_passed_is_informational_with_the_check_severity_kept() -> None:
    asff = to_asff(make_finding(status=Status.PASSED, severity=Severity.HIGH), created_at=CREATED, updated_at=UPDATED)
    assert asff["Severity"] == {"Label": "INFORMATIONAL", "Original": "HIGH"}
    assert asff["FindingProviderFields"]["Severity"] == asff["Severity"]
    assert asff["Compliance"]["Status"] == "PASSED"
    assert asff["RecordState"] == "ACTIVE"


def test_identity_product_and_generator() -> None:
    finding = make_finding(region="eu-west-1", account_id="210987654321")
    asff = to_asff(finding, created_at=CREATED, updated_at=UPDATED)
    assert asff["Id"] == finding.id
    assert asff["ProductArn"] == "arn:aws:securityhub:eu-west-1:210987654321:product/210987654321/default"
    assert asff["GeneratorId"] == "relaudit/sqs-queue-redrive-policy-configured"
    assert asff["AwsAccountId"] == "210987654321" and asff["Region"] == "eu-west-1"
    assert asff["ProductFields"]["relaudit/BestPractice"] == "REL05-BP04"
    assert asff["ProductFields"]["relaudit/References/securityhub"] == "SQS.3"
    assert asff["CreatedAt"] == asff["FirstObservedAt"] == CREATED
    assert asff["UpdatedAt"] == asff["LastObservedAt"] == UPDATED


def test_partition_comes_from_the_arn() -> None:
    finding = make_finding(region="cn-north-1", arn="arn:aws-cn:sqs:cn-north-1:123456789012:q")
    asff = to_asff(finding, created_at=CREATED, updated_at=UPDATED)
    assert asff["ProductArn"].startswith("arn:aws-cn:securityhub:cn-north-1:")
    assert asff["Resources"][0]["Partition"] == "aws-cn"
    assert_valid_asff([asff])


def test_long_texts_are_clipped_to_the_service_limits() -> None:
    finding = make_finding(name="q" * 5000).model_copy(update={"title": "T" * 400, "remediation_text": "r" * 900})
    asff = to_asff(finding, created_at=CREATED, updated_at=UPDATED)
    assert len(asff["Title"]) == 256 and asff["Title"].endswith("…")
    assert len(asff["Description"]) == 1024
    assert len(asff["Remediation"]["Recommendation"]["Text"]) == 512
    assert len(asff["ProductFields"]["relaudit/ResourceName"]) == 2048
    assert_valid_asff([asff])


def test_content_hash_ignores_only_the_per_import_times() -> None:
    finding = make_finding()
    first = to_asff(finding, created_at=CREATED, updated_at=UPDATED)
    later = to_asff(finding, created_at=CREATED, updated_at="2027-01-01T00:00:00.000Z")
    passed = to_asff(finding.model_copy(update={"status": Status.PASSED}), created_at=CREATED, updated_at=UPDATED)
    archived = to_asff(finding, created_at=CREATED, updated_at=UPDATED, record_state="ARCHIVED")
    assert content_hash(first) == content_hash(later)
    assert len({content_hash(first), content_hash(passed), content_hash(archived)}) == 3


def _example_findings() -> list[Any]:
    findings = []
    for check in CATALOG.checks.values():
        definition = check.definition
        for number, example in enumerate(definition.examples):
            name = f"{definition.id}-{number}"
            document = ResourceDocument(
                account_id="123456789012",
                region="us-west-2",
                resource_type=definition.resource_type,
                arn=f"arn:aws:example:us-west-2:123456789012:{name}",
                name=name,
                properties=example.resource,
            )
            findings.append(evaluate(check, document))
    return findings


def test_every_check_example_maps_to_valid_asff() -> None:
    findings = _example_findings()
    assert {f.status for f in findings} >= {Status.PASSED, Status.FAILED}
    sent = [
        to_asff(f, created_at=CREATED, updated_at=UPDATED) for f in findings if f.status is not Status.NOT_APPLICABLE
    ]
    assert_valid_asff(sent)
    assert [a["Id"] for a in sent] == [f.id for f in findings if f.status is not Status.NOT_APPLICABLE]


def test_resource_types_are_asff_types() -> None:
    assert set(ASFF_RESOURCE_TYPES.values()) <= DETAIL_TYPES
    # A collector whose CloudFormation name spells an ASFF type (case aside) must map to it.
    by_lower = {name.lower(): name for name in DETAIL_TYPES}
    for cfn_type in COLLECTORS:
        spelled = "aws" + re.sub(r"[^a-z0-9]", "", cfn_type.lower().removeprefix("aws::"))
        if spelled in by_lower:
            assert ASFF_RESOURCE_TYPES.get(cfn_type) == by_lower[spelled], cfn_type


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda a: a.pop("Severity"), "Severity"),
        (lambda a: a.update(Types=[]), "Types"),
        (lambda a: a.update(Types=["Reliability/Checks"]), "Types.0"),
        (lambda a: a["Severity"].update(Label="SEVERE"), "Severity.Label"),
        (lambda a: a.update(CreatedAt="yesterday"), "CreatedAt"),
        (lambda a: a.update(UpdatedAt="2025-01-01T00:00:00.000Z"), "UpdatedAt is earlier"),
        (lambda a: a.update(ProductArn="arn:aws:securityhub:us-east-1::product/aws/guardduty"), "ProductArn"),
        (lambda a: a.update(Title=" "), "Title"),
        (lambda a: a.update(Description="d" * 1025), "Description"),
    ],
)
def test_the_model_rejects_what_botocore_lets_through(change: Any, fragment: str) -> None:
    asff = to_asff(make_finding(), created_at=CREATED, updated_at=UPDATED)
    change(asff)
    # botocore checks types and required members only: these all pass it (and moto stores them).
    if "Severity" in asff and isinstance(asff.get("Types"), list) and asff["Types"]:
        assert botocore_errors([asff]) == ""
    problems = asff_problems(asff)
    assert any(fragment in problem for problem in problems), problems


def test_size_limit_is_measured_on_the_wire() -> None:
    asff = to_asff(make_finding(), created_at=CREATED, updated_at=UPDATED)
    asff["ProductFields"] = {f"k{i}": "😀" * 2048 for i in range(20)}  # 12 bytes each when ASCII-escaped
    assert encoded_size(asff) > MAX_FINDING_BYTES
    assert any("240" in p or str(MAX_FINDING_BYTES) in p for p in asff_problems(asff))
