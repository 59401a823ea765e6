"""The reports on an account seeded by someone else (the demo's seed, moto on 127.0.0.1):
two audits published to a findings table with one fix in between, then the HTML report, the OCSF
events and the trend, all through the real `relaudit` command."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from relaudit import cli
from relaudit.demo import graph_workloads
from relaudit.demo.__main__ import embedded_account
from relaudit.demo.seed import seed
from relaudit.models.finding import Finding
from relaudit.report import graph_svg, html
from relaudit.report.grouping import heat_map
from tests.support import chromium
from tests.support.html_check import external_loads, tags
from tests.support.ocsf_schema import schema_errors
from tests.support.png import colour_share

REGIONS = ("us-east-1", "eu-west-1")
TABLE = "report-findings"
FIXED = ("us-east-1", "dynamodb-table-pitr-enabled", "sessions")  # the one defect fixed between the runs


@dataclass(frozen=True)
class Runs:
    """The files the commands wrote."""

    out: Path
    run1: dict[str, Any]
    run2: dict[str, Any]

    def read(self, name: str) -> str:
        return (self.out / name).read_text()


def _relaudit(*args: str | Path) -> None:
    code = cli.main([str(arg) for arg in args])
    assert code == cli.EXIT_OK, f"relaudit {' '.join(map(str, args))} exited {code}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    out = tmp_path_factory.mktemp("reports")
    regions = ",".join(REGIONS)
    saved = os.environ.get("AWS_ENDPOINT_URL")
    with embedded_account() as endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        try:
            session = boto3.session.Session()
            make = lambda service, region: session.client(service, region_name=region)  # noqa: E731
            seed(make, REGIONS)
            graph_workloads.deploy(make, REGIONS[0])  # stacks whose interactions the graph checks judge
            sink = ["--sink", "dynamodb", "--table", TABLE]
            _relaudit(
                "audit",
                "--regions",
                regions,
                *sink,
                "--create-table",
                "--format",
                "json",
                "--output",
                out / "run1.json",
            )
            session.client("dynamodb", region_name=FIXED[0]).update_continuous_backups(
                TableName=FIXED[2], PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
            _relaudit("audit", "--regions", regions, *sink, "--format", "json", "--output", out / "run2.json")
            # Not published (no --sink): the same account state, as OCSF and as HTML with the table's trend.
            _relaudit("audit", "--regions", regions, "--format", "ocsf", "--output", out / "findings.ocsf.json")
            _relaudit(
                "audit", "--regions", regions, "--table", TABLE, "--format", "html", "--output", out / "report.html"
            )
            _relaudit("graph", "--regions", regions, "--format", "json", "--output", out / "graph.json")
            for fmt, name in (("json", "trend.json"), ("table", "trend.txt"), ("html", "trend.html")):
                _relaudit("report", "--table", TABLE, "--since", "1d", "--format", fmt, "--output", out / name)
        finally:
            if saved is None:
                os.environ.pop("AWS_ENDPOINT_URL", None)
            else:
                os.environ["AWS_ENDPOINT_URL"] = saved
    yield Runs(out, json.loads((out / "run1.json").read_text()), json.loads((out / "run2.json").read_text()))


def _findings(report: dict[str, Any]) -> list[Finding]:
    return [Finding.model_validate(f) for f in report["findings"]]


def test_html_report_is_self_contained_with_an_svg_heat_map_of_the_account(runs: Runs) -> None:
    page = runs.read("report.html")
    assert external_loads(page) == [] and "script" not in tags(page)
    heat = heat_map(_findings(runs.run2))
    assert set(heat.regions) == set(REGIONS) and len(heat.services) >= 5
    cells = re.findall(r"<title>(\w+) in ([\w-]+): (\d+) failed of (\d+) judged</title>", page)
    assert len(cells) == len(heat.services) * len(heat.regions)
    for service, region, failed, judged in cells:
        cell = heat.cell(service, region)
        assert (int(failed), int(judged)) == (cell.failed, cell.judged), (service, region)
    failed = page[page.index('<section id="failed">') : page.index('<section id="passed">')]
    for finding in _findings(runs.run2):
        if finding.status == "FAILED":
            assert finding.resource_arn in failed
    assert 'id="trend"' in page and page.count("<code>202") >= 2, "the table's two runs are in the report"


@pytest.mark.skipif(chromium.binary() is None, reason="chromium is not installed (Debian package: chromium)")
def test_html_report_renders_in_headless_chromium_with_content(runs: Runs, tmp_path: Path) -> None:
    rendered = chromium.render(runs.out / "report.html", tmp_path, width=1100, height=1200)
    assert rendered.console == [], "the report logs nothing to the console"
    assert rendered.page_requests == [], "the report fetches nothing"
    share, colours = colour_share(rendered.screenshot)
    assert share > 0.05, f"screenshot is nearly blank ({share:.1%} not background)"
    heat = heat_map(_findings(runs.run2))
    worst = max((c for c in heat.cells.values() if c.judged), key=lambda c: c.share or 0)
    fill = html.heat_fill(worst.share)
    rgb = tuple(int(fill[i : i + 2], 16) for i in (1, 3, 5))
    assert colours[rgb] > 500, f"the heat map's {fill} cell ({worst.service} in {worst.region}) is not on screen"


def test_html_report_has_a_scorecard_per_workload_and_draws_failing_resources_marked(runs: Runs) -> None:
    graph = json.loads(runs.read("graph.json"))
    page = runs.read("report.html")
    section = page[page.index('<section id="workloads">') : page.index('<section id="failed">')]
    cards = re.findall(r'<tr class="scorecard" data-workload="([^"]+)">', section)
    assert sorted(cards) == sorted(w["id"] for w in graph["workloads"]), "one scorecard per workload of the graph"
    drawn = set(re.findall(r'aria-label="resources of workload (.+?) and how they interact"', section))
    assert {"shop-api", "billing", "jobs", "fulfilment"} <= drawn, "the failing stacks are drawn"
    failed = {f.resource_arn for f in _findings(runs.run2) if f.status == "FAILED"}
    marked = {arn: role for role, arn in re.findall(r'<g class="node (\w+) failing" data-arn="([^"]+)">', section)}
    plain = set(re.findall(r'<g class="node \w+" data-arn="([^"]+)">', section))
    assert set(marked) <= failed and not plain & failed, "a box is marked failing exactly when a finding failed it"
    by_name = {w["name"]: w for w in graph["workloads"]}
    for name in ("shop-api", "billing", "jobs"):
        members = set(by_name[name]["nodes"])
        assert members & failed and members & failed <= set(marked), f"{name}'s failing resources are marked"


@pytest.mark.skipif(chromium.binary() is None, reason="chromium is not installed (Debian package: chromium)")
def test_the_worst_workloads_drawing_renders_with_its_failing_boxes_on_screen(runs: Runs, tmp_path: Path) -> None:
    rendered = chromium.render(runs.out / "report.html", tmp_path, width=1100, height=3000)
    assert rendered.console == [] and rendered.page_requests == []
    _, colours = colour_share(rendered.screenshot)
    failing_fill = tuple(int(graph_svg.FAILING.fill[i : i + 2], 16) for i in (1, 3, 5))
    assert colours[failing_fill] > 2000, "the worst workload's failing boxes are drawn in the browser"


@pytest.mark.skipif(chromium.binary() is None, reason="chromium is not installed (Debian package: chromium)")
def test_the_browser_harness_sees_console_errors_and_fetches(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><body><script>console.error("boom")</script><img src="https://example.com/x.png"></body></html>'
    )
    rendered = chromium.render(page, tmp_path, width=400, height=300)
    assert any("boom" in line for line in rendered.console)
    assert rendered.page_requests == ["https://example.com/x.png"]


def test_ocsf_events_validate_and_their_ids_are_the_json_findings(runs: Runs) -> None:
    events = json.loads(runs.read("findings.ocsf.json"))
    judged = [f for f in runs.run2["findings"] if f["status"] in ("PASSED", "FAILED")]
    assert len(judged) > 50
    assert [e["finding_info"]["uid"] for e in events] == [f["id"] for f in judged]
    assert [e["resources"][0]["uid"] for e in events] == [f["resource_arn"] for f in judged]
    for event in events:
        assert schema_errors(event) == []
        assert (event["class_uid"], event["category_uid"]) == (2003, 2)


def test_trend_shows_both_runs_and_the_one_resolved_finding(runs: Runs) -> None:
    trend = json.loads(runs.read("trend.json"))
    first, second = trend["runs"]
    assert [first["run_id"], second["run_id"]] == [runs.run1["summary"]["run_id"], runs.run2["summary"]["run_id"]]
    assert (
        first["findings"] == runs.run1["summary"]["findings"] and second["findings"] == runs.run2["summary"]["findings"]
    )
    assert first["opened"] == runs.run1["summary"]["findings"]["FAILED"] and first["resolved"] == 0
    assert (second["opened"], second["resolved"]) == (0, 1)
    assert second["findings"]["FAILED"] == first["findings"]["FAILED"] - 1
    ((resolution),) = trend["time_to_resolve"]
    assert resolution["check_id"] == FIXED[1] and resolution["resolved"] == 1
    assert 0 < resolution["mean_seconds"] < 600, "from the first run's NEW event to the second run"

    text = runs.read("trend.txt")
    assert "Runs recorded in report-findings since" in text and ": 2" in text.splitlines()[0]
    rows = [line.split() for line in text.splitlines() if line.startswith((first["run_id"], second["run_id"]))]
    assert [row[0] for row in rows] == [first["run_id"], second["run_id"]]
    assert rows[1][-2:] == ["0", "1"], "the second run opened nothing and resolved one"
    assert re.search(rf"^{FIXED[1]}\s+1\s+\d", text, re.M)

    page = runs.read("trend.html")
    assert external_loads(page) == []
    assert len(re.findall(r'<rect class="resolved"', page)) == 2 and f"{second['run_id']}: 1 resolved" in page
    assert f"<code>{FIXED[1]}</code></td><td>1</td>" in page
