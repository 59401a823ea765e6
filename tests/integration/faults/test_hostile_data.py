"""Hostile data from the account: huge values, unicode names, 10,000-item pages, fields missing.

Responses are rewritten by botocore ``after-call`` hooks (the parsed dict the collectors receive)
on fresh sessions, so moto's state stays the seed's. Every finding must still be valid ASFF by the
sinks' own model (relaudit.sinks.asff.asff_problems) and the JSON report must stay parseable.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

import boto3

from relaudit.models.check import Status
from relaudit.sinks import local
from relaudit.sinks.asff import asff_problems, to_asff
from tests.integration.faults.conftest import findings_of

NOW = "2026-01-01T00:00:00.000Z"
WEIRD = "支付-API \u202eevil\u202c 🚀 \x00 ' \" <script> \\ %s {} ${x} " + "ẞ" * 3000


def assert_valid_output(result: Any) -> None:
    """Every finding maps to valid ASFF and the JSON report round-trips."""
    for finding in result.findings:
        state = "ARCHIVED" if finding.status is Status.NOT_APPLICABLE else "ACTIVE"
        asff = to_asff(finding, created_at=NOW, updated_at=NOW, record_state=state)
        assert asff_problems(asff) == [], finding.id
    assert json.loads(local.result_json(result))["findings"] == findings_of(result)


def hooked_session(**hooks: Any) -> Any:
    """A session whose responses for ``service_id.Operation`` keys are rewritten by the hooks."""
    session = boto3.session.Session()
    for event, rewrite in hooks.items():
        session.events.register(f"after-call.{event}", lambda parsed, _rewrite=rewrite, **_: _rewrite(parsed))
    return session


def statuses(result: Any) -> dict[str, str]:
    return {f.id: f.status.value for f in result.findings}


def test_huge_values_and_unicode_names(make_factory: Any, audit: Any, clean: Any) -> None:
    def names(parsed: dict[str, Any]) -> None:
        for api in parsed.get("items", []):
            api["name"] = WEIRD
            api["description"] = "d" * 200_000
            api["tags"] = {f"k{i}": "v" * 256 for i in range(50)}

    def tags(parsed: dict[str, Any]) -> None:
        for instance in parsed.get("DBInstances", []):
            instance["TagList"] = [{"Key": f"tag-{i}-🚀", "Value": "x" * 50_000} for i in range(50)]

    def attributes(parsed: dict[str, Any]) -> None:
        attributes = parsed.get("Attributes", {})
        attributes["Policy"] = json.dumps({"Statement": [{"Sid": "s" * 100, "Effect": "Allow"}] * 2000})
        attributes["Unexpected"] = "\u0000\uffff"

    session = hooked_session(
        **{"api-gateway.GetRestApis": names, "rds.DescribeDBInstances": tags, "sqs.GetQueueAttributes": attributes}
    )
    result = audit(make_factory(session=session))
    assert result.coverage_gaps == []
    assert statuses(result) == statuses(clean)
    assert WEIRD in {f.resource_name.split("/")[0] for f in result.findings}
    assert_valid_output(result)


def test_ten_thousand_item_pages(make_factory: Any, audit: Any, clean: Any) -> None:
    def ten_thousand(parsed: dict[str, Any]) -> None:
        template = parsed["DBInstances"][0]
        parsed["DBInstances"] = []
        for i in range(10_000):
            instance = copy.deepcopy(template)
            instance["DBInstanceIdentifier"] = f"db-{i:05d}"
            instance["DBInstanceArn"] = re.sub(r"db:[^:]+$", f"db:db-{i:05d}", template["DBInstanceArn"])
            instance["MultiAZ"] = i % 2 == 0
            parsed["DBInstances"].append(instance)

    started = time.monotonic()
    session = hooked_session(**{"rds.DescribeDBInstances": ten_thousand})
    result = audit(make_factory(session=session), regions=("us-east-1",))
    elapsed = time.monotonic() - started
    rds = [f for f in result.findings if f.resource_type == "AWS::RDS::DBInstance"]
    assert len(rds) == len({f.id for f in rds}) == 10_000
    assert sum(f.status is Status.FAILED for f in rds) == 5_000
    others = [
        f for f in findings_of(clean) if f["resource_type"] != "AWS::RDS::DBInstance" and f["region"] == "us-east-1"
    ]
    assert [f for f in findings_of(result) if f["resource_type"] != "AWS::RDS::DBInstance"] == others
    started = time.monotonic()
    assert_valid_output(result)
    print(f"10,000 RDS instances in one page: audited in {elapsed:.1f}s, ASFF in {time.monotonic() - started:.1f}s")
    assert elapsed < 60


# Member names that identify a resource: kept when "optional" fields are stripped, since AWS
# always returns them and a resource without them cannot be named in a finding.
IDENTITY = re.compile(r"(Arn|ARN|Id|Name|Identifier|Url|id|name|stageName)$")


def strip_optional(shape: Any, value: Any, top: bool = True, keep: re.Pattern[str] | None = IDENTITY) -> None:
    """Delete, in place, every member the API model does not mark required (below the top level)."""
    if value is None:
        return
    if shape.type_name == "structure" and isinstance(value, dict):
        for name in list(value):
            member = shape.members.get(name)
            if member is None:
                continue
            if not top and name not in shape.required_members and not (keep and keep.search(name)):
                del value[name]
            else:
                strip_optional(member, value[name], top=False, keep=keep)
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            strip_optional(shape.member, item, top=False, keep=keep)
    elif shape.type_name == "map" and isinstance(value, dict):
        for item in value.values():
            strip_optional(shape.value, item, top=False, keep=keep)


def stripping_session(keep: re.Pattern[str] | None) -> Any:
    session = boto3.session.Session()

    def strip(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.output_shape is not None:
            strip_optional(model.output_shape, parsed, keep=keep)

    session.events.register("after-call", strip)
    return session


def test_optional_fields_missing_from_every_response(make_factory: Any, audit: Any, clean: Any) -> None:
    """Only required members and identifiers survive: every resource is still audited."""
    result = audit(make_factory(session=stripping_session(IDENTITY)))
    changed = sum(statuses(result)[key] != value for key, value in statuses(clean).items())
    print(f"{changed} of {len(result.findings)} verdicts changed with optional fields gone")
    assert changed > 0, "the stripping must reach the fields checks read"
    assert result.coverage_gaps == []
    assert set(statuses(result)) == set(statuses(clean)), "every resource is still found"
    assert_valid_output(result)


def test_even_identifiers_missing_never_crash_the_run(make_factory: Any, audit: Any, catalog: Any) -> None:
    """With identifiers stripped too, a unit may fail, but as a gap of its own: the run completes."""
    result = audit(make_factory(session=stripping_session(None)))
    covered = {(g.region, g.resource_type) for g in result.coverage_gaps}
    audited = {(f.region, f.resource_type) for f in result.findings}
    print(sorted({(g.resource_type, g.error_code) for g in result.coverage_gaps}))
    assert covered | audited <= {(r, t) for r in ("us-east-1", "eu-west-1") for t in catalog.resource_types()}
    assert_valid_output(result)


USER_CHECK = """\
id: sqs-queue-dlq-arn-set
title: Queue names a dead-letter queue
resource_type: AWS::SQS::Queue
severity: LOW
best_practice: REL05-BP04
passes_when: "length(RedrivePolicy.deadLetterTargetArn) > `0`"
remediation: {text: Set one., url: "https://example.com/dlq"}
examples:
  - {name: set, expect: PASSED, resource: {RedrivePolicy: {deadLetterTargetArn: "arn:aws:sqs:us-east-1:1:d"}}}
  - {name: empty, expect: FAILED, resource: {RedrivePolicy: {deadLetterTargetArn: ""}}}
"""


def test_a_check_failing_on_real_data_is_a_gap_not_a_crash(tmp_path: Any, make_factory: Any, catalog: Any) -> None:
    """Its examples pass, but a queue without RedrivePolicy makes length(null) raise: one gap per unit."""
    from relaudit.catalog.loader import Catalog, load_check
    from relaudit.inventory import COLLECTORS
    from relaudit.models.request import AuditRequest
    from relaudit.run import CHECK_EVALUATION_ERROR, run

    (tmp_path / "sqs-queue-dlq-arn-set.yaml").write_text(USER_CHECK)
    user = load_check(tmp_path / "sqs-queue-dlq-arn-set.yaml", COLLECTORS)
    mixed = Catalog(checks={**catalog.checks, user.id: user})
    request = AuditRequest(regions=["us-east-1"], checks=[user.id, "sqs-queue-redrive-policy-configured"])
    result = run(request, mixed, make_factory())
    [gap] = result.coverage_gaps
    assert (gap.region, gap.resource_type, gap.error_code) == ("us-east-1", "AWS::SQS::Queue", CHECK_EVALUATION_ERROR)
    assert "sqs-queue-dlq-arn-set" in gap.message and "2 resource(s)" in gap.message
    by_check = {(f.check_id, f.resource_name): f.status.value for f in result.findings}
    assert by_check[("sqs-queue-dlq-arn-set", "orders")] == "PASSED"
    assert len([k for k in by_check if k[0] == "sqs-queue-redrive-policy-configured"]) == 3  # unaffected
    assert result.summary.result == "partial"


MIXED_TYPES_CHECK = """\
id: sqs-queue-name-numeric
title: Queue name compared as a number
resource_type: AWS::SQS::Queue
severity: LOW
best_practice: REL05-BP04
passes_when: "QueueName >= `0`"
remediation: {text: None., url: "https://example.com/n"}
examples:
  - {name: numeric, expect: PASSED, resource: {QueueName: 5}}
  - {name: negative, expect: FAILED, resource: {QueueName: -5}}
"""


def test_a_check_ordering_a_string_against_a_number_is_not_a_crash(
    tmp_path: Any, make_factory: Any, catalog: Any
) -> None:
    """Its example has a number where real queues have a string. jmespath 1.1 raises TypeError (not
    a JMESPathError) for `'orders' >= 0`, 1.0 gave null: either way the run completes, with
    findings or the check's evaluation gap."""
    from relaudit.catalog.loader import Catalog, load_check
    from relaudit.inventory import COLLECTORS
    from relaudit.models.request import AuditRequest
    from relaudit.run import CHECK_EVALUATION_ERROR, run

    (tmp_path / "sqs-queue-name-numeric.yaml").write_text(MIXED_TYPES_CHECK)
    user = load_check(tmp_path / "sqs-queue-name-numeric.yaml", COLLECTORS)
    request = AuditRequest(regions=["us-east-1"], checks=[user.id])
    result = run(request, Catalog(checks={user.id: user}), make_factory())
    gaps = [g for g in result.coverage_gaps if g.error_code == CHECK_EVALUATION_ERROR]
    if gaps:
        assert "sqs-queue-name-numeric" in gaps[0].message and "3 resource(s)" in gaps[0].message
    else:
        assert {f.status.value for f in result.findings} == {"FAILED"}
        assert len(result.findings) == 3
