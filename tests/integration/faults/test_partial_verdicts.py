"""A denied service never changes another service's verdict: what cannot be judged is UNKNOWN.

With Lambda denied, the SQS queues' dead-letter and consumer joins (which read Lambda) fail. The
checks reading those joins' fields used to see the field missing and say NOT_APPLICABLE ("out of
this check's scope") for queues that clean runs find FAILED; now they say UNKNOWN, naming the
missing input, and every check of every other service is judged exactly as in the clean run.
"""

from __future__ import annotations

from typing import Any

import pytest

from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Status
from relaudit.models.request import AuditRequest
from relaudit.run import run
from tests.support.faults import Faults, access_denied

CATALOG = load_catalog(known_types=COLLECTORS)
REGION = "us-east-1"


def _audit(factory: Any) -> Any:
    return run(AuditRequest(regions=[REGION], max_workers=4), CATALOG, factory)


@pytest.fixture(scope="module")
def clean_all(make_factory: Any) -> Any:
    """Every built-in check on the seeded account, no fault."""
    return _audit(make_factory())


def test_lambda_denied_turns_no_other_verdict_into_not_applicable_or_passed(make_factory: Any, clean_all: Any) -> None:
    denied = _audit(make_factory(Faults(rules=[access_denied("lambda")])))

    before = {f.id: f for f in clean_all.findings if not f.resource_type.startswith("AWS::Lambda::")}
    after = {f.id: f for f in denied.findings}
    changed = {fid: (f.status, after[fid].status) for fid, f in before.items() if after[fid].status is not f.status}
    assert before.keys() <= after.keys(), "no other service's resource is lost"
    assert {new for _, new in changed.values()} == {Status.UNKNOWN}, "a verdict changes only to UNKNOWN"
    was_failed = [fid for fid, (old, _) in changed.items() if old is Status.FAILED]
    assert was_failed, "the seed plants SQS findings that read Lambda (redrive policy, backlog alarm)"
    assert {after[fid].resource_type for fid in was_failed} == {"AWS::SQS::Queue"}
    for fid in changed:
        assert "could not be read" in after[fid].reason and "AccessDeniedException" in after[fid].reason
    assert denied.summary.result == "partial"
    assert denied.summary.findings["UNKNOWN"] == sum(1 for f in denied.findings if f.status is Status.UNKNOWN)
    # One refusal (ListFunctions, shared by both SQS joins) is one gap naming every field it cost.
    [sqs_gap] = [g for g in denied.coverage_gaps if g.resource_type == "AWS::SQS::Queue"]
    assert {"DeadLetterSources", "IsDeadLetterQueue", "ConsumerTimeoutMultiple"} <= set(sqs_gap.fields)
