"""The workload graph of an account seeded with five CloudFormation stacks (moto's CloudFormation
deploys them) and a Step Functions workflow beside them: every seeded edge found with its mode, none
invented; stacks are the workloads; the graph checks fail on the right resources and pass the clean
stack."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from relaudit import cli
from relaudit.catalog.loader import load_catalog
from relaudit.demo import graph_workloads
from relaudit.graph_collect import collect_graph
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Status
from relaudit.models.request import AuditRequest
from relaudit.policy.config import parse_config
from relaudit.run import run

REGION = "us-east-1"
CATALOG = load_catalog(known_types=COLLECTORS)
GRAPH_CHECKS = sorted(check_id for check_id, check in CATALOG.checks.items() if check.definition.graph)

# (source name, target name, kind, mode, via): every interaction the five stacks (and the
# subscription, bucket notification and workflow made beside them) configure or permit.
SEEDED_EDGES = {
    ("shop", "api", "integration", "sync", "configuration"),
    ("api", "pricing", "invoke", "sync", "permission"),
    ("pricing", "orders", "write", "data", "permission"),
    ("invoicer", "orders", "write", "data", "permission"),
    ("billing-events", "invoices", "subscription", "async", "configuration"),
    ("billing-uploads", "invoices", "notification", "async", "configuration"),
    ("invoices", "invoicer", "poll", "poll", "configuration"),
    ("nightly", "reporter", "rule-target", "async", "configuration"),
    ("jobs", "worker", "poll", "poll", "configuration"),
    ("worker", "jobs", "send-message", "async", "permission"),
    ("jobs", "jobs-dlq", "redrive", "async", "configuration"),
    ("postings", "posting", "poll", "poll", "configuration"),
    ("postings", "postings-dlq", "redrive", "async", "configuration"),
    ("posting", "ledger-IdempotencyTable", "write", "data", "permission"),
    ("posting", "ledger-IdempotencyTable", "read", "data", "permission"),
    ("fulfil", "charge", "integration", "sync", "configuration"),
    ("fulfil", "status", "integration", "sync", "configuration"),
    # The workflow's Task states: by name (charge), a qualified ARN in a Map in a Parallel (pack,
    # waiting for a task token), a queue URL, a table name, the default bus (a stub: not
    # inventoried); its sns:publish names the topic at run time and makes no edge.
    ("fulfil-order", "charge", "task", "sync", "configuration"),
    ("fulfil-order", "pack", "task", "sync", "configuration"),
    ("fulfil-order", "shipments", "task", "async", "configuration"),
    ("fulfil-order", "fulfilments", "write", "data", "configuration"),
    ("fulfil-order", "default", "task", "async", "configuration"),
}
STACKS = {
    "shop-api": {"shop", "api", "pricing", "orders"},
    "billing": {"invoicer", "invoices", "billing-events", "billing-uploads", "nightly", "reporter"},
    "jobs": {"worker", "jobs", "jobs-dlq"},
    "ledger": {"posting", "postings", "postings-dlq", "ledger-IdempotencyTable"},
    "fulfilment": {"fulfil", "charge", "status", "pack", "shipments", "fulfilments"},
}
# The workflow is deployed beside the stacks (moto's CloudFormation skips state machines): a
# workload of its own, its connected component (the stacks' resources it calls are theirs).
WORKLOADS = {**STACKS, "fulfil-order": {"fulfil-order"}}


@pytest.fixture
def seeded(factory: Any) -> Any:
    graph_workloads.deploy(lambda service, region: boto3.client(service, region_name=region), REGION)
    return factory


def test_every_seeded_edge_is_found_with_its_mode_and_none_is_invented(seeded: Any) -> None:
    result = collect_graph(AuditRequest(regions=[REGION]), CATALOG, seeded)
    assert result.coverage_gaps == []
    ((account, _),) = result.graphs
    names = {node.arn: node.name for node in account.nodes()}
    found = {(names[s], names[t], kind, data["mode"], data["via"]) for s, t, kind, data in account.edges()}
    assert found == SEEDED_EDGES


def test_each_stack_is_a_workload_of_exactly_its_resources(seeded: Any) -> None:
    ((account, workloads),) = collect_graph(AuditRequest(regions=[REGION]), CATALOG, seeded).graphs
    names = {node.arn: node.name for node in account.nodes()}
    assert {w.name: {names[arn] for arn in w.nodes} for w in workloads} == WORKLOADS
    assert {w.name for w in workloads if w.source == "cloudformation"} == set(STACKS)
    assert all(w.id.startswith("arn:aws:cloudformation:") for w in workloads if w.source == "cloudformation")
    (workflow,) = [w for w in workloads if w.source == "component"]
    assert workflow.id == f"component:arn:aws:states:{REGION}:123456789012:stateMachine:fulfil-order"


def test_graph_checks_fail_on_the_right_resources_and_pass_the_clean_stack(seeded: Any) -> None:
    result = run(AuditRequest(regions=[REGION], checks=GRAPH_CHECKS, max_workers=4), CATALOG, seeded)
    findings = list(result.findings)
    status = {(f.check_id, f.resource_name): f.status.value for f in findings}
    for key, expected in graph_workloads.EXPECTED.items():
        assert status[key] == expected, key
    failed = {(f.check_id, f.resource_name) for f in findings if f.status is Status.FAILED}
    assert failed == {key for key, expected in graph_workloads.EXPECTED.items() if expected == "FAILED"}
    assert not {name for _, name in failed} & STACKS["ledger"]
    assert result.summary.result == "complete"


def test_a_path_finding_names_its_path_and_its_permission_only_hops(seeded: Any) -> None:
    result = run(
        AuditRequest(regions=[REGION], checks=["lambda-function-sync-chain-shallow"], max_workers=4), CATALOG, seeded
    )
    (chain,) = [f for f in result.findings if f.status is Status.FAILED]
    api_id = boto3.client("apigateway", region_name=REGION).get_rest_apis()["items"][0]["id"]
    function = f"arn:aws:lambda:{REGION}:123456789012:function:"
    assert chain.resource_arn == f"{function}api"
    assert chain.best_practice.startswith("REL04-")
    assert chain.path == [f"arn:aws:apigateway:{REGION}::/restapis/{api_id}", f"{function}api", f"{function}pricing"]
    assert "-[sync invoke, permission only]-> pricing" in chain.reason


def test_cli_graph_prints_the_contract_json_and_dot_and_mermaid(seeded: Any, tmp_path: Any, capsys: Any) -> None:
    assert cli.main(["graph", "--regions", REGION, "--format", "json"]) == cli.EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"nodes", "edges", "workloads"}
    assert {"id", "type", "name", "region", "account_id", "workload"} <= set(document["nodes"][0])
    assert {"source", "target", "kind", "mode"} <= set(document["edges"][0])
    assert {"id", "name", "source", "nodes"} == set(document["workloads"][0])
    by_id = {n["id"]: n for n in document["nodes"]}
    queue_to_function = [e for e in document["edges"] if e["kind"] == "poll"]
    assert {by_id[e["source"]]["type"] for e in queue_to_function} == {"AWS::SQS::Queue"}
    assert {by_id[e["target"]]["type"] for e in queue_to_function} == {"AWS::Lambda::Function"}
    for fmt, marker in (("dot", "digraph relaudit {"), ("mermaid", "flowchart LR")):
        out = tmp_path / f"graph.{fmt}"
        assert cli.main(["graph", "--regions", REGION, "--format", fmt, "--output", str(out)]) == cli.EXIT_OK
        text = out.read_text()
        assert text.startswith(marker)
        assert text.count("subgraph") == len(WORKLOADS)


def test_no_graph_read_when_no_selected_check_needs_it(seeded: Any) -> None:
    calls: list[str] = []
    seeded.session.events.register("before-call.*.*", lambda event_name, **_: calls.append(event_name))
    run(AuditRequest(regions=[REGION], checks=["sqs-queue-redrive-policy-configured"], max_workers=2), CATALOG, seeded)
    services = {name.split(".")[1] for name in calls}
    assert "sqs" in services  # the hook sees the calls made
    assert not services & {"iam", "cloudformation", "s3", "resource-groups-tagging-api"}


def test_tags_name_the_workloads_of_resources_outside_stacks(factory: Any) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    application = f"arn:aws:resource-groups:{REGION}:123456789012:group/storefront/0a1b2c"
    sqs.create_queue(QueueName="loose-a", tags={"awsApplication": application, "team": "ops"})
    sqs.create_queue(QueueName="loose-b", tags={"team": "ops"})
    sqs.create_queue(QueueName="loose-c")

    result = collect_graph(AuditRequest(regions=[REGION]), CATALOG, factory, workload_tag="team")

    ((account, workloads),) = result.graphs
    names = {node.arn: node.name for node in account.nodes()}
    assert {(w.name, w.source, tuple(names[a] for a in w.nodes)) for w in workloads} == {
        ("storefront", "tag", ("loose-a",)),
        ("ops", "tag", ("loose-b",)),
        ("loose-c", "component", ("loose-c",)),
    }


def test_an_unreadable_graph_source_makes_every_graph_verdict_unknown_and_archives_nothing(seeded: Any) -> None:
    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "ListRolePolicies")

    seeded.client("iam", REGION).meta.events.register_first("before-call.iam.ListRolePolicies", denied)
    checks = [*GRAPH_CHECKS, "sqs-queue-redrive-policy-configured"]
    result = run(AuditRequest(regions=[REGION], checks=checks, max_workers=4), CATALOG, seeded)

    assert [(g.resource_type, g.error_code) for g in result.coverage_gaps] == [("AWS::IAM::Role", "AccessDenied")]
    graph_findings = [f for f in result.findings if f.check_id in GRAPH_CHECKS]
    assert graph_findings, "the graph's resources are still reported, as could-not-judge"
    assert {f.status for f in graph_findings} == {Status.UNKNOWN}
    assert all("workload graph could not be read" in f.reason and "AccessDenied" in f.reason for f in graph_findings)
    assert Status.UNKNOWN not in {f.status for f in result.findings if f.check_id not in GRAPH_CHECKS}
    assert {check for _, _, check in result.completed_slices} == {"sqs-queue-redrive-policy-configured"}
    assert result.summary.result == "partial"


def test_graph_findings_are_tiered_and_suppressed_like_the_others(seeded: Any) -> None:
    # The merge of issue 18 with the graph: a graph check is judged per resource under its tier, and
    # its FAILED finding is suppressed by the same rules (here by ARN: Lambda's ListFunctions has no tags).
    config = parse_config(
        """
suppressions:
  - checks: [lambda-function-no-recursive-loop]
    resources: ["arn:aws:lambda:*:*:function:worker"]
    reason: the loop ends at the dead-letter queue
policies:
  batch:
    resources: ["arn:aws:lambda:*:*:function:reporter"]
    skip_checks: [lambda-function-async-path-failure-captured]
    severity: {lambda-function-at-least-once-idempotency-evidence: CRITICAL}
""",
        "test",
    )
    request = AuditRequest(regions=[REGION], checks=GRAPH_CHECKS, max_workers=4, config=config)
    findings = {(f.check_id, f.resource_name): f for f in run(request, CATALOG, seeded).findings}
    loop = findings[("lambda-function-no-recursive-loop", "worker")]
    assert loop.status is Status.FAILED and loop.suppression is not None
    assert (loop.suppression.source, loop.suppression.reason) == ("config", "the loop ends at the dead-letter queue")
    assert findings[("lambda-function-no-recursive-loop", "posting")].suppression is None
    dropped = findings[("lambda-function-async-path-failure-captured", "reporter")]
    assert (dropped.status, dropped.tier) == (Status.NOT_APPLICABLE, "batch")
    kept = findings[("lambda-function-async-path-failure-captured", "invoicer")]
    assert (kept.status, kept.tier, kept.suppression) == (Status.FAILED, None, None)
    raised = findings[("lambda-function-at-least-once-idempotency-evidence", "reporter")]
    assert (raised.status, raised.severity.value, raised.tier) == (Status.FAILED, "CRITICAL", "batch")
    assert findings[("lambda-function-at-least-once-idempotency-evidence", "worker")].severity.value != "CRITICAL"


def test_an_unreadable_graph_source_under_a_policy_is_unknown_not_suppressed_and_tiered(seeded: Any) -> None:
    # Could not judge stays UNKNOWN whatever the rules say: a catch-all suppression suppresses no
    # UNKNOWN finding, while the tier still leaves out the check it skips and marks the rest.
    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "ListRolePolicies")

    seeded.client("iam", REGION).meta.events.register_first("before-call.iam.ListRolePolicies", denied)
    config = parse_config(
        """
suppressions:
  - checks: ["*"]
    resources: ["*"]
    reason: everything is excepted
policies:
  batch:
    resources: ["arn:aws:lambda:*:*:function:reporter"]
    skip_checks: [lambda-function-async-path-failure-captured]
""",
        "test",
    )
    request = AuditRequest(regions=[REGION], checks=GRAPH_CHECKS, max_workers=4, config=config)
    result = run(request, CATALOG, seeded)

    findings = {(f.check_id, f.resource_name): f for f in result.findings}
    assert {f.status for f in findings.values()} == {Status.UNKNOWN, Status.NOT_APPLICABLE}
    assert all(f.suppression is None for f in findings.values())
    dropped = findings[("lambda-function-async-path-failure-captured", "reporter")]
    assert (dropped.status, dropped.tier) == (Status.NOT_APPLICABLE, "batch")
    marked = findings[("lambda-function-no-recursive-loop", "reporter")]
    assert (marked.status, marked.tier) == (Status.UNKNOWN, "batch")
    assert findings[("lambda-function-async-path-failure-captured", "invoicer")].status is Status.UNKNOWN
    assert result.summary.suppressed == 0
    assert result.summary.result == "partial"


def test_a_burst_finding_names_the_api_and_the_stage_that_admits_too_much(seeded: Any) -> None:
    check = "lambda-function-reserved-concurrency-covers-api-burst"
    result = run(AuditRequest(regions=[REGION], checks=[check], max_workers=4), CATALOG, seeded)
    (charge,) = [f for f in result.findings if f.status is Status.FAILED]
    (api,) = [
        a["id"]
        for a in boto3.client("apigateway", region_name=REGION).get_rest_apis()["items"]
        if a["name"] == "fulfil"
    ]
    assert charge.resource_name == "charge"
    assert charge.path == [
        f"arn:aws:apigateway:{REGION}::/restapis/{api}",
        f"arn:aws:lambda:{REGION}:123456789012:function:charge",
    ]
    assert "fulfil -[sync integration, burst 20 on stage prod]-> charge" in charge.reason
    assert {f.resource_name: f.status for f in result.findings if f.status is not Status.NOT_APPLICABLE} == {
        "charge": Status.FAILED,
        "status": Status.PASSED,
    }


def test_a_workflow_whose_definition_cannot_be_decrypted_leaves_the_graph_unjudged(seeded: Any) -> None:
    # AWS answers KmsAccessDeniedException for a definition under a customer managed key the audit
    # role cannot use (moto 5.2 has no encrypted definitions); METADATA_ONLY still answers. The
    # workflow's calls are unknown, so what they reach cannot be judged: the graph is incomplete.
    def refused(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if json.loads(params.get("body") or b"{}").get("includedData") == "METADATA_ONLY":
            return None
        error = {"Error": {"Code": "KmsAccessDeniedException", "Message": "injected"}}
        return AWSResponse("https://refused", 400, {}, None), {**error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    seeded.client("stepfunctions", REGION).meta.events.register_first("before-call.sfn.DescribeStateMachine", refused)
    checks = [*GRAPH_CHECKS, "stepfunctions-state-machine-logging-enabled"]
    result = run(AuditRequest(regions=[REGION], checks=checks, max_workers=4), CATALOG, seeded)

    (gap,) = result.coverage_gaps
    assert (gap.resource_type, gap.error_code, gap.fields) == (
        "AWS::StepFunctions::StateMachine",
        "KmsAccessDeniedException",
        ("TaskTargets",),
    )
    assert {f.status for f in result.findings if f.check_id in GRAPH_CHECKS} == {Status.UNKNOWN}
    (logging,) = [f for f in result.findings if f.check_id == "stepfunctions-state-machine-logging-enabled"]
    assert logging.status is Status.FAILED, "the machine's metadata is judged as usual"
    assert result.summary.result == "partial"
