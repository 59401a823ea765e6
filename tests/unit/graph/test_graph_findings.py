"""A graph finding's path in the sinks: Security Hub lists the path's resources beside the finding's own."""

from __future__ import annotations

from relaudit.sinks.asff import to_asff
from tests.integration.sinks.helpers import assert_valid_asff, make_finding

CREATED, UPDATED = "2026-01-02T03:04:05.006Z", "2026-02-03T04:05:06.007Z"
API = "arn:aws:apigateway:us-east-1::/restapis/a1"
FRONT = "arn:aws:lambda:us-east-1:123456789012:function:front"
BACK = "arn:aws:lambda:eu-west-1:123456789012:function:back"


def test_the_path_resources_follow_the_findings_own() -> None:
    finding = make_finding(arn=FRONT).model_copy(update={"path": [API, FRONT, BACK]})
    asff = to_asff(finding, created_at=CREATED, updated_at=UPDATED)
    assert [(r["Id"], r["Region"]) for r in asff["Resources"]] == [
        (FRONT, "us-east-1"),
        (API, "us-east-1"),
        (BACK, "eu-west-1"),
    ]
    assert_valid_asff([asff])


def test_a_long_path_is_cut_at_asffs_32_resources() -> None:
    path = [f"arn:aws:sqs:us-east-1:123456789012:q{i}" for i in range(40)]
    finding = make_finding(arn=path[0]).model_copy(update={"path": path})
    assert len(to_asff(finding, created_at=CREATED, updated_at=UPDATED)["Resources"]) == 32


def test_a_finding_without_a_path_has_one_resource() -> None:
    assert len(to_asff(make_finding(arn=FRONT), created_at=CREATED, updated_at=UPDATED)["Resources"]) == 1
