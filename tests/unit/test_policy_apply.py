"""The bound policy (pure): tags read from each document shape, tag suppressions, expiry, tiers, and
the findings and summary an evaluation makes under it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from relaudit.catalog.loader import CompiledCheck, load_check
from relaudit.graph.facts import TAGS_TYPE, Member, facts_of
from relaudit.models.check import Severity, Status
from relaudit.models.resource import ResourceDocument
from relaudit.policy.apply import BoundPolicy
from relaudit.policy.config import parse_config
from relaudit.policy.tags import read_tag_suppression, resource_tags, resource_workload
from relaudit.run import Evaluation, summarize

TODAY = dt.date(2026, 12, 7)
CHECK = """\
id: {id}
title: Queue is deep enough
resource_type: AWS::SQS::Queue
severity: HIGH
best_practice: REL05-BP04
parameters: {{min_depth: 2}}
passes_when: "Depth >= _params.min_depth"
remediation: {{text: Fix., url: "https://example.com/"}}
examples:
  - {{name: ok, expect: PASSED, resource: {{Depth: 3}}}}
  - {{name: bad, expect: FAILED, resource: {{Depth: 1}}}}
"""
KNOWN = frozenset({"queue-depth", "queue-width"})


@pytest.fixture
def catalog(tmp_path: Path) -> dict[str, CompiledCheck]:
    checks = {}
    for check_id in sorted(KNOWN):
        path = tmp_path / f"{check_id}.yaml"
        path.write_text(CHECK.format(id=check_id))
        checks[check_id] = load_check(path)
    return checks


def doc(name: str, depth: int = 1, tags: dict[str, str] | None = None) -> ResourceDocument:
    properties: dict[str, object] = {"Depth": depth}
    if tags is not None:
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return ResourceDocument(
        account_id="111122223333",
        region="eu-west-1",
        resource_type="AWS::SQS::Queue",
        arn=f"arn:aws:sqs:eu-west-1:111122223333:{name}",
        name=name,
        properties=properties,
    )


def bound(catalog: dict[str, CompiledCheck], text: str) -> BoundPolicy:
    return BoundPolicy(parse_config(text, "test"), catalog, today=TODAY)


@pytest.mark.parametrize(
    "properties",
    [
        {"Tags": [{"Key": "team", "Value": "core"}]},
        {"TagList": [{"Key": "team", "Value": "core"}]},
        {"Tags": {"team": "core"}},
        {"tags": {"team": "core"}},
    ],
)
def test_tags_are_read_from_every_shape_documents_hold_them_in(properties: dict[str, object]) -> None:
    assert resource_tags(properties) == {"team": "core"}


def test_a_document_without_tags_has_none() -> None:
    assert resource_tags({"QueueName": "q"}) == {}


def test_tag_suppression_rules() -> None:
    reason = {"relaudit:suppress-reason": "load test queue"}
    rule, notes = read_tag_suppression({"relaudit:suppress": "queue-depth", **reason}, "arn:q", KNOWN)
    assert rule is not None and rule.covers("queue-depth") and not rule.covers("queue-width") and notes == []
    rule, _ = read_tag_suppression({"relaudit:suppress": "all", **reason}, "arn:q", KNOWN)
    assert rule is not None and rule.covers("queue-width")
    rule, notes = read_tag_suppression({"relaudit:suppress": "queue-depth  queue-typo", **reason}, "arn:q", KNOWN)
    assert rule is not None and rule.checks == {"queue-depth"} and "queue-typo" in notes[0]
    until = {"relaudit:suppress-until": "2027-01-31"}
    rule, _ = read_tag_suppression({"relaudit:suppress": "queue-depth", **reason, **until}, "arn:q", KNOWN)
    assert rule is not None and rule.expires == dt.date(2027, 1, 31)


@pytest.mark.parametrize(
    ("tags", "says"),
    [
        ({"relaudit:suppress": "queue-depth"}, "relaudit:suppress-reason"),
        ({"relaudit:suppress": "queue-depth", "relaudit:suppress-reason": " "}, "relaudit:suppress-reason"),
        ({"relaudit:suppress": "queue-depth,queue-width", "relaudit:suppress-reason": "x"}, "separated by spaces"),
        ({"relaudit:suppress": "*", "relaudit:suppress-reason": "x"}, "separated by spaces"),
        (
            {"relaudit:suppress": "all", "relaudit:suppress-reason": "x", "relaudit:suppress-until": "31/01/2027"},
            "YYYY-MM-DD",
        ),
        ({"relaudit:suppress": "queue-typo", "relaudit:suppress-reason": "x"}, "unknown checks"),
    ],
)
def test_a_tag_suppression_that_is_not_honoured_says_why(tags: dict[str, str], says: str) -> None:
    rule, notes = read_tag_suppression(tags, "arn:q", KNOWN)
    assert rule is None
    assert len(notes) == 1 and notes[0].startswith("arn:q: ") and says in notes[0]


def test_expiry_is_the_last_day_it_applies(catalog: dict[str, CompiledCheck]) -> None:
    rule = "suppressions:\n  - {{checks: [queue-depth], resources: ['*:q'], reason: r, expires: {day}}}\n"
    today = bound(catalog, rule.format(day=TODAY.isoformat())).for_resource(doc("q"))
    assert today.marks("queue-depth", Status.FAILED) is not None and today.marks("queue-depth", Status.FAILED)[0]
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    policy = bound(catalog, rule.format(day=yesterday))
    assert policy.for_resource(doc("q")).marks("queue-depth", Status.FAILED) is None
    assert policy.notes == [f"suppressions[0] (r) expired on {yesterday}: it no longer applies"]
    tags = {"relaudit:suppress": "all", "relaudit:suppress-reason": "r2", "relaudit:suppress-until": yesterday}
    assert policy.for_resource(doc("t", tags=tags)).marks("queue-depth", Status.FAILED) is None
    assert policy.notes[-1] == f"{doc('t').arn}: tag suppression (r2) expired on {yesterday}: it no longer applies"


def test_only_failures_are_marked_and_the_file_comes_before_the_tags(catalog: dict[str, CompiledCheck]) -> None:
    policy = bound(catalog, "suppressions:\n  - {checks: ['*'], tags: {env: 'dev*'}, reason: from the file}\n")
    tags = {"env": "dev-2", "relaudit:suppress": "all", "relaudit:suppress-reason": "from the tag"}
    view = policy.for_resource(doc("q", tags=tags))
    assert view.marks("queue-depth", Status.PASSED) is None
    assert view.marks("queue-depth", Status.NOT_APPLICABLE) is None
    marks = view.marks("queue-depth", Status.FAILED)
    assert marks is not None and marks[0] is not None
    assert (marks[0].source, marks[0].reason) == ("config", "from the file")
    tagged_only = policy.for_resource(doc("q", tags={**tags, "env": "prod"})).marks("queue-width", Status.FAILED)
    assert tagged_only is not None and tagged_only[0] is not None and tagged_only[0].source == "tag"


def test_a_rule_with_resources_and_tags_needs_both(catalog: dict[str, CompiledCheck]) -> None:
    rule = "{checks: [queue-depth], resources: ['*:q'], tags: {env: dev}, reason: r}"
    policy = bound(catalog, f"suppressions:\n  - {rule}\n")
    assert policy.for_resource(doc("q", tags={"env": "dev"})).marks("queue-depth", Status.FAILED) is not None
    assert policy.for_resource(doc("q", tags={"env": "prod"})).marks("queue-depth", Status.FAILED) is None
    assert policy.for_resource(doc("other", tags={"env": "dev"})).marks("queue-depth", Status.FAILED) is None


TIERS = """
tier_tag: team:tier
default_tier: standard
policies:
  standard: {}
  dev:
    resources: ['*:dev-*']
    skip_checks: [queue-width]
  critical:
    checks: [queue-depth]
    severity: {queue-depth: CRITICAL}
    parameters: {queue-depth: {min_depth: 5}}
"""


def test_tier_by_tag_then_arn_then_default(catalog: dict[str, CompiledCheck]) -> None:
    policy = bound(catalog, TIERS)
    assert policy.for_resource(doc("dev-q", tags={"team:tier": "critical"})).tier == "critical"
    assert policy.for_resource(doc("dev-q")).tier == "dev"
    assert policy.for_resource(doc("q")).tier == "standard"
    assert policy.for_resource(doc("q", tags={"relaudit:tier": "dev"})).tier == "standard"  # the file names team:tier
    unknown = policy.for_resource(doc("q", tags={"team:tier": "gold"}))
    assert unknown.tier == "standard" and "team:tier='gold' names no tier" in policy.notes[0]


STACK = "aws:cloudformation:stack-name"
PAYMENTS_APP = "arn:aws:resource-groups:eu-west-1:111122223333:group/payments/0a1b2c3d4e5f"
WORKLOAD_TIERS = """
workload_tag: service
default_tier: standard
policies:
  standard: {}
  dev:
    workloads: [shop-dev, reports]
    resources: ["arn:aws:sqs:*:*:dev-*"]
  critical: {workloads: [shop-prod, payments]}
"""


@pytest.mark.parametrize(
    ("name", "tags", "tier"),
    [
        ("q", {STACK: "shop-prod"}, "critical"),  # its CloudFormation stack
        ("q", {"awsApplication": PAYMENTS_APP}, "critical"),  # its application's name
        ("q", {"service": "reports"}, "dev"),  # the file's workload_tag
        ("q", {STACK: "shop-dev", "awsApplication": PAYMENTS_APP}, "dev"),  # the stack first, as the graph
        ("q", {"awsApplication": PAYMENTS_APP, "service": "reports"}, "critical"),  # then the application
        ("q", {STACK: "other", "awsApplication": PAYMENTS_APP}, "standard"),  # its workload is the stack
        ("q", {"relaudit:tier": "standard", STACK: "shop-prod"}, "standard"),  # the tier tag comes first
        ("dev-q", {STACK: "shop-prod"}, "critical"),  # a workload before the ARN globs
        ("dev-q", {STACK: "unlisted"}, "dev"),  # a workload no tier names: the globs, then the default
        ("q", {STACK: "unlisted"}, "standard"),
        ("q", {"Service": "reports"}, "standard"),  # tag keys are case-sensitive
    ],
)
def test_tier_by_tag_then_workload_then_arn_then_default(
    catalog: dict[str, CompiledCheck], name: str, tags: dict[str, str], tier: str
) -> None:
    assert bound(catalog, WORKLOAD_TIERS).for_resource(doc(name, tags=tags)).tier == tier


def test_without_a_workload_tag_in_the_file_only_stacks_and_applications_name_workloads(
    catalog: dict[str, CompiledCheck],
) -> None:
    policy = bound(catalog, "policies:\n  dev: {workloads: [reports]}\n")
    assert policy.for_resource(doc("q", tags={"service": "reports"})).tier is None
    assert policy.for_resource(doc("q", tags={STACK: "reports"})).tier == "dev"


def test_workload_names_agree_with_the_graphs() -> None:
    tagged = ResourceDocument(
        account_id="111122223333",
        region="eu-west-1",
        resource_type=TAGS_TYPE,
        arn="arn:aws:tag:eu-west-1:111122223333:resources",
        name="resources",
        properties={
            "Resources": [
                {"ResourceARN": "arn:aws:sqs:eu-west-1:111122223333:a", "Tags": {"awsApplication": PAYMENTS_APP}},
                {"ResourceARN": "arn:aws:sqs:eu-west-1:111122223333:b", "Tags": {"service": "reports"}},
            ]
        },
    )
    members = [fact for fact in facts_of(tagged, "service") if isinstance(fact, Member)]
    assert [m.name for m in members] == ["payments", "reports"]
    for member, resource in zip(members, tagged.properties["Resources"], strict=True):
        assert resource_workload(resource["Tags"], "service") == member.name


def test_a_tier_drops_checks_and_overrides_severity_and_parameters(catalog: dict[str, CompiledCheck]) -> None:
    policy = bound(catalog, TIERS)
    dev = policy.for_resource(doc("dev-q"))
    assert dev.judged(catalog["queue-width"]) is None
    assert dev.judged(catalog["queue-depth"]) is catalog["queue-depth"]
    critical = policy.for_resource(doc("q", tags={"team:tier": "critical"}))
    assert critical.judged(catalog["queue-width"]) is None  # `checks` lists only queue-depth
    judged = critical.judged(catalog["queue-depth"])
    assert judged is not None and judged.definition.severity is Severity.CRITICAL
    assert judged.definition.parameters == {"min_depth": 5}
    assert catalog["queue-depth"].definition.parameters == {"min_depth": 2}  # the catalog's check is untouched


def test_evaluation_under_a_policy(catalog: dict[str, CompiledCheck]) -> None:
    text = TIERS + "suppressions:\n  - {checks: [queue-depth], resources: ['*:q-held'], reason: being fixed}\n"
    evaluation = Evaluation(list(catalog.values()), bound(catalog, text))
    evaluation.add([doc("q-held"), doc("dev-q"), doc("q-deep", depth=3, tags={"team:tier": "critical"})])
    records = evaluation.finish([])
    found = {(f.resource_name, f.check_id): f for f in records}
    held = found[("q-held", "queue-depth")]
    assert held.status is Status.FAILED and held.suppression is not None and held.tier == "standard"
    assert found[("q-held", "queue-width")].suppression is None
    dropped = found[("dev-q", "queue-width")]
    assert (dropped.status, dropped.tier) == (Status.NOT_APPLICABLE, "dev")
    deep = found[("q-deep", "queue-depth")]  # 3 passes the catalog's 2, not the critical tier's 5
    assert (deep.status, deep.severity, deep.tier) == (Status.FAILED, Severity.CRITICAL, "critical")

    started = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    summary = summarize([], records, [], 3, started, 1.0)
    assert summary == summarize([], list(records), [], 3, started, 1.0)  # from records = from findings
    assert summary.suppressed == 1 and summary.suppressed_by_severity == {"HIGH": 1}
    assert summary.failed_by_severity == {"CRITICAL": 1, "HIGH": 3}


def test_an_unknown_finding_is_never_suppressed(catalog: dict[str, CompiledCheck]) -> None:
    # UNKNOWN was not judged: there is nothing to except, and a suppression must not hide that the
    # run is partial. The same rule on a judged resource still suppresses its failures.
    everything = "suppressions:\n  - {checks: ['*'], resources: ['*'], reason: all}\n"
    evaluation = Evaluation(list(catalog.values()), bound(catalog, everything))
    evaluation.add([doc("q-unread")], {"Depth": "AccessDenied: refused"})
    evaluation.add([doc("q-read")])
    records = evaluation.finish([])
    assert {(f.resource_name, f.status, f.suppression is None) for f in records} == {
        ("q-unread", Status.UNKNOWN, True),
        ("q-read", Status.FAILED, False),
    }
    summary = summarize([], records, [], 2, dt.datetime(2026, 12, 7, tzinfo=dt.UTC), 1.0)
    assert (summary.suppressed, summary.findings["UNKNOWN"], summary.result) == (2, 2, "partial")
