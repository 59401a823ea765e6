"""The HTML report: self-contained (nothing fetched), escaped, with the SVG heat map, the failed
groups, and the trend chart when a trend is given."""

from __future__ import annotations

import re

from relaudit.models.check import Status
from relaudit.report import html
from relaudit.report.grouping import heat_map
from relaudit.report.trend import CheckResolution, RunPoint, Trend
from tests.support.graph_document import CHECK, GraphDocument, arn, on
from tests.support.html_check import external_loads, tags
from tests.support.report_data import ACCOUNT, finding, mixed, result


def _trend() -> Trend:
    return Trend(
        table="findings",
        since="2026-11-07T00:00:00.000Z",
        runs=[
            RunPoint(
                "run-1", "2026-12-06T06:00:00+00:00", "complete", {"PASSED": 4, "FAILED": 3}, opened=3, resolved=0
            ),
            RunPoint(
                "run-2", "2026-12-07T06:00:00+00:00", "complete", {"PASSED": 5, "FAILED": 2}, opened=0, resolved=1
            ),
        ],
        time_to_resolve=[CheckResolution("sqs-queue-redrive-policy-configured", 1, 86400.0)],
    )


def test_report_is_self_contained_and_holds_an_svg_heat_map() -> None:
    page = html.render(result(mixed()))
    assert external_loads(page) == []
    assert "script" not in tags(page)
    heat = heat_map(mixed())
    svg = page[page.index('<section id="heatmap">') : page.index('<section id="failed">')]
    cells = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"><title>(\w+) in ([\w-]+): (\d+) failed of (\d+) judged', svg)
    assert len(cells) == len(heat.services) * len(heat.regions) == 4
    by_cell = {(service, region): (fill, int(failed), int(judged)) for fill, service, region, failed, judged in cells}
    assert by_cell[("SQS", "eu-west-1")] == (html.heat_fill(1.0), 1, 1)
    assert by_cell[("SQS", "us-east-1")] == (html.heat_fill(0.5), 1, 2)
    assert by_cell[("RDS", "us-east-1")][0] == html.heat_fill(0.0) != html.heat_fill(1.0)


def test_failed_and_unknown_groups_carry_remediation_and_references_and_passed_are_counted() -> None:
    page = html.render(result(mixed()))
    failed = page[page.index('<section id="failed">') : page.index('<section id="passed">')]
    assert re.findall(r'<div class="group (\w+)">', failed) == ["FAILED", "FAILED", "UNKNOWN"]
    rds = finding("rds-db-instance-multi-az", Status.FAILED, "eu-west-1", "reports-db")
    assert rds.remediation_text in failed and f'href="{rds.remediation_url}"' in failed
    assert rds.references.securityhub and f"securityhub: {rds.references.securityhub}" in failed
    assert "reports-db" in failed and "orders-db" not in failed
    passed = page[page.index('<section id="passed">') :]
    assert "<code>rds-db-instance-multi-az</code>" in passed
    assert 'id="trend"' not in page, "no trend section without a trend"


def test_values_from_the_account_are_escaped() -> None:
    hostile = finding("sqs-queue-redrive-policy-configured", Status.FAILED, "us-east-1", '<script>alert("x")</script>')
    page = html.render(result([hostile]))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert external_loads(page) == []


def test_trend_section_has_a_chart_per_status_bars_and_mean_time_to_resolve() -> None:
    page = html.render(result(mixed()), _trend())
    section = page[page.index('<section id="trend">') :]
    lines = re.findall(r'<polyline class="series" points="([^"]+)" fill="none" stroke="(#[0-9a-f]{6})"', section)
    assert [colour for _, colour in lines] == [html.STATUS_COLOUR["FAILED"], html.STATUS_COLOUR["PASSED"]]
    failed_points = [tuple(map(float, p.split(","))) for p in lines[0][0].split()]
    assert len(failed_points) == 2
    assert failed_points[1][1] > failed_points[0][1], "FAILED drops from 3 to 2: the line goes down (y grows)"
    assert len(re.findall(r'<rect class="resolved"', section)) == 2
    assert re.search(r"run-2: 1 resolved", section)
    mttr = section[section.index('id="mttr"') :]
    assert "sqs-queue-redrive-policy-configured" in mttr and "1.0 d" in mttr
    assert external_loads(page) == []


def test_trend_only_report_renders_without_a_result() -> None:
    page = html.render(trend=_trend())
    assert 'id="trend"' in page and 'id="heatmap"' not in page
    empty = html.render(trend=Trend(table="findings", since="2026-11-07T00:00:00.000Z"))
    assert "No run recorded in this period." in empty and "No failing finding was resolved" in empty


def _workloads(page: str) -> str:
    return page[page.index('<section id="workloads">') : page.index('<section id="failed">')]


def test_workload_section_has_scorecards_worst_first_and_a_drawing_with_failing_resources_marked() -> None:
    graph = GraphDocument().workload("clean", ["ok"]).workload("shop", ["api", "pricing"]).edge("api", "pricing")
    findings = [on(arn("api"), Status.FAILED, severity="HIGH"), on(arn("pricing"), Status.PASSED)]
    findings.append(on(arn("ok"), Status.PASSED))
    section = _workloads(html.render(result(findings), graph=graph.as_dict()))
    rows = re.findall(r'<tr class="scorecard" data-workload="[^"]+/(\w+)/1">', section)
    assert rows == ["shop", "clean"], "worst first"
    drawings = re.findall(r'aria-label="resources of workload (\w+) and how they interact"', section)
    assert drawings == ["shop", "clean"]
    marked = re.findall(r'<g class="node member (failing|unknown)" data-arn="([^"]+)">', section)
    assert marked == [("failing", arn("api"))]
    assert len(re.findall(r'<path class="edge sync"', section)) == 1
    assert f"FAILED: {CHECK}" in section, "the failing box's tooltip names the check"


def test_names_from_the_account_are_escaped_in_the_drawing() -> None:
    graph = GraphDocument().workload('<script>alert("w")</script>', ["api"])
    graph.nodes[0]["name"] = "<img src=x onerror=alert(1)>"
    page = html.render(result([on(arn("api"), Status.FAILED)]), graph=graph.as_dict())
    assert "<script>" not in page and "<img" not in page and "&lt;img src=x" in page
    assert external_loads(page) == []


def test_without_a_graph_check_the_page_says_so_and_an_account_without_a_graph_is_named() -> None:
    page = html.render(result(mixed()))
    assert "No graph check was selected" in _workloads(page) and "workload-graph" not in page
    other = GraphDocument().workload("shop", ["api"], account="210987654321").as_dict()
    section = _workloads(html.render(result(mixed(), accounts=[ACCOUNT, "210987654321"]), graph=other))
    assert f"No workload graph for account {ACCOUNT}: nothing to draw." in section
    assert "No workload graph for account 210987654321" not in section
