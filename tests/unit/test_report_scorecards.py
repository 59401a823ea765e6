"""Per-workload scorecards: findings counted by their resource's workload, worst first."""

from __future__ import annotations

from relaudit.models.check import Status
from relaudit.models.finding import Suppression
from relaudit.report.scorecards import NO_WORKLOAD, scorecards, verdicts_by_resource
from tests.support.graph_document import GraphDocument, arn, on


def _graph() -> GraphDocument:
    return (
        GraphDocument()
        .workload("shop", ["api", "pricing"])
        .workload("billing", ["invoicer", "reporter", "mailer"])
        .workload("ledger", ["ledger"])
        .node("partner", arn("partner", "sqs"), None)
    )


def test_findings_count_under_their_resources_workload_and_the_rest_under_no_workload() -> None:
    findings = [
        on(arn("api"), Status.FAILED, severity="HIGH"),
        on(arn("api"), Status.PASSED, check="lambda-function-errors-alarm-configured"),
        on(arn("pricing"), Status.PASSED),
        on(arn("invoicer"), "UNKNOWN"),
        on(arn("mailer"), Status.NOT_APPLICABLE),
        on(arn("partner", "sqs"), Status.FAILED),  # a node, but in no workload
        on(arn("stray"), Status.FAILED),  # no node at all
    ]
    cards = {card.name: card for card in scorecards(_graph().as_dict(), findings)}
    assert set(cards) == {"shop", "billing", "ledger", NO_WORKLOAD}
    shop, billing, ledger, loose = cards["shop"], cards["billing"], cards["ledger"], cards[NO_WORKLOAD]
    assert (shop.statuses["PASSED"], shop.statuses["FAILED"], shop.resources) == (2, 1, 2)
    assert shop.failed_by_severity == [("HIGH", 1)] and shop.failed_share == 1 / 3
    assert (billing.statuses["UNKNOWN"], sum(billing.statuses.values()), billing.resources) == (1, 1, 3)
    assert billing.failed_share is None, "only an UNKNOWN and a NOT_APPLICABLE: nothing judged"
    assert sum(ledger.statuses.values()) == 0 and ledger.failed_share is None
    assert (loose.statuses["FAILED"], loose.resources, loose.key) == (2, 2, None)


def test_worst_first_one_critical_outranks_any_number_of_high_and_no_workload_comes_last() -> None:
    graph = GraphDocument().workload("many-high", ["a", "b", "c"]).workload("one-critical", ["d"])
    graph.workload("clean", ["e"]).workload("unknown-only", ["f"])
    findings = [
        *(
            on(arn(name), Status.FAILED, check=check, severity="HIGH")
            for name in "abc"
            for check in ("lambda-function-errors-alarm-configured", "lambda-function-async-failure-captured")
        ),
        on(arn("d"), Status.FAILED, severity="CRITICAL"),
        on(arn("e"), Status.PASSED),
        on(arn("f"), "UNKNOWN"),
        on(arn("stray"), Status.FAILED, severity="CRITICAL"),
    ]
    order = [card.name for card in scorecards(graph.as_dict(), findings)]
    assert order == ["one-critical", "many-high", "unknown-only", "clean", NO_WORKLOAD]


def test_the_same_workload_id_in_two_accounts_is_two_scorecards() -> None:
    graph = GraphDocument().workload("tag:team=pay", ["api"], source="tag")
    graph.workload("tag:team=pay", ["api"], source="tag", account="210987654321")
    findings = [on(arn("api"), Status.FAILED), on(arn("api", account="210987654321"), Status.PASSED)]
    cards = scorecards(graph.as_dict(), findings)
    assert sorted((card.account_id, card.statuses["FAILED"], card.statuses["PASSED"]) for card in cards) == [
        ("123456789012", 1, 0),
        ("210987654321", 0, 1),
    ]


def test_suppressed_failures_are_counted_and_marked() -> None:
    suppression = Suppression(reason="accepted until the migration", expires=None, source="config")
    failed = on(arn("api"), Status.FAILED).model_copy(update={"suppression": suppression})
    (card,) = scorecards(GraphDocument().workload("shop", ["api"]).as_dict(), [failed])
    assert (card.statuses["FAILED"], card.suppressed) == (1, 1)
    verdicts = verdicts_by_resource(
        [failed, on(arn("api"), "UNKNOWN", check="lambda-function-errors-alarm-configured")]
    )
    assert verdicts[arn("api")].failed == verdicts[arn("api")].suppressed == (failed.check_id,)
    assert verdicts[arn("api")].unknown == ("lambda-function-errors-alarm-configured",)
