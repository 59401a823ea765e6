"""Evaluation semantics: exactly-true passes, applies_when scopes, parameters, finding fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaudit.catalog.evaluate import evaluate, status_of
from relaudit.catalog.loader import load_check
from relaudit.ids import finding_id
from relaudit.models.check import Status
from relaudit.models.resource import ResourceDocument

CHECK = """\
id: demo-thing-check
title: Thing has enough zones
resource_type: AWS::SQS::Queue
severity: HIGH
best_practice: REL10-BP01
parameters: {{min_azs: 2}}
applies_when: "{applies}"
passes_when: "{passes}"
remediation: {{text: Fix., url: "https://example.com/"}}
examples:
  - {{name: ok, expect: PASSED, resource: {{}}}}
  - {{name: bad, expect: FAILED, resource: {{}}}}
"""


def compile_check(tmp_path: Path, passes: str, applies: str = "`true`"):  # type: ignore[no-untyped-def]
    path = tmp_path / "demo-thing-check.yaml"
    path.write_text(CHECK.format(passes=passes, applies=applies))
    return load_check(path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, Status.PASSED), (False, Status.FAILED), ("yes", Status.FAILED), (1, Status.FAILED), (None, Status.FAILED)],
)
def test_only_exact_true_passes(tmp_path: Path, value: object, expected: Status) -> None:
    check = compile_check(tmp_path, passes="Flag")
    assert status_of(check, {"Flag": value}) is expected


def test_truthy_applies_when_is_not_enough(tmp_path: Path) -> None:
    check = compile_check(tmp_path, passes="`true`", applies="Scope")
    assert status_of(check, {"Scope": "non-empty string"}) is Status.NOT_APPLICABLE
    assert status_of(check, {"Scope": True}) is Status.PASSED


def test_parameters_are_readable_under_params_key(tmp_path: Path) -> None:
    check = compile_check(tmp_path, passes="length(unique(Zones)) >= _params.min_azs")
    assert status_of(check, {"Zones": ["a", "b", "a"]}) is Status.PASSED
    assert status_of(check, {"Zones": ["a", "a"]}) is Status.FAILED


def test_finding_carries_identity_and_a_sentence(tmp_path: Path) -> None:
    check = compile_check(tmp_path, passes="Flag")
    arn = "arn:aws:sqs:eu-west-1:111122223333:orders"
    doc = ResourceDocument(
        account_id="111122223333",
        region="eu-west-1",
        resource_type="AWS::SQS::Queue",
        arn=arn,
        name="orders",
        properties={"Flag": False},
    )
    finding = evaluate(check, doc)
    assert finding.id == finding_id("111122223333", "eu-west-1", "demo-thing-check", arn)
    assert finding.status is Status.FAILED
    assert finding.severity.value == "HIGH"
    assert finding.reason.startswith("orders (AWS::SQS::Queue) does not meet")
    assert finding.reason.endswith(".")


def test_a_missing_input_makes_exactly_the_checks_reading_it_unknown(tmp_path: Path) -> None:
    from relaudit.catalog.evaluate import judge

    check = compile_check(tmp_path, "length(Zones) >= _params.min_azs", applies="Kind == 'a'")
    document = {"Kind": "a", "Zones": ["x", "y"]}
    assert judge(check, document, {"Other": "denied"}) == (Status.PASSED, None)
    status, detail = judge(check, document, {"Zones": "AccessDeniedException: no"})
    assert status is Status.UNKNOWN and detail == "Zones could not be read (AccessDeniedException: no)"
    status, _ = judge(check, {"Kind": "b"}, {"Kind": "denied"})
    assert status is Status.UNKNOWN, "not NOT_APPLICABLE: the input deciding applicability is missing"


def test_a_resources_own_unavailable_inputs_make_its_finding_unknown(tmp_path: Path) -> None:
    check = compile_check(tmp_path, "Definition.Catches == `true`")
    own = {"_unavailable": {"Definition": "KmsAccessDeniedException on DescribeStateMachine"}}
    resource = ResourceDocument(
        account_id="123456789012",
        region="us-east-1",
        resource_type="AWS::SQS::Queue",
        arn="arn:aws:sqs:us-east-1:123456789012:q",
        name="q",
        properties=own,
    )
    finding = evaluate(check, resource)
    assert finding.status is Status.UNKNOWN
    assert finding.reason == (
        "q (AWS::SQS::Queue) could not be judged: Thing has enough zones: "
        "Definition could not be read (KmsAccessDeniedException on DescribeStateMachine)."
    )
    other = resource.model_copy(update={"properties": {**own, "Definition": {"Catches": True}, "_unavailable": {}}})
    assert evaluate(check, other).status is Status.PASSED
