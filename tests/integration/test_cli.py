"""The real `relaudit` command against a moto server on 127.0.0.1, as a user or CI job runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from relaudit.catalog.loader import load_catalog
from relaudit.demo.__main__ import embedded_account
from relaudit.demo.seed import Planted, seed
from relaudit.inventory import COLLECTORS

REGIONS = ("us-east-1", "eu-west-1")
RELAUDIT = [sys.executable, "-m", "relaudit.cli"]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[Planted]]]:
    """The demo's embedded account (moto on 127.0.0.1 plus answers for the APIs moto lacks), seeded
    once for the module; the CLI reaches it through AWS_ENDPOINT_URL."""
    with embedded_account() as endpoint:
        session = boto3.session.Session()
        planted = seed(
            lambda service, region: session.client(service, region_name=region, endpoint_url=endpoint), REGIONS
        )
        yield endpoint, planted


def relaudit(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
    return subprocess.run([*RELAUDIT, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_json_report_finds_every_planted_defect(server: tuple[str, list[Planted]]) -> None:
    endpoint, planted = server
    proc = relaudit(endpoint, "audit", "--regions", ",".join(REGIONS), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) == {"summary", "findings", "coverage_gaps"}
    required = {
        "id",
        "check_id",
        "status",
        "severity",
        "title",
        "resource_arn",
        "resource_type",
        "region",
        "account_id",
    }
    assert all(required <= set(f) for f in report["findings"])
    found = {(f["region"], f["check_id"], f["resource_name"]): f["status"] for f in report["findings"]}
    expected = {(p.region, p.check_id, p.name): p.expect for p in planted}
    assert {key: found.get(key) for key in expected} == expected
    assert sorted(k for k, status in found.items() if status == "FAILED" and k not in expected) == []
    assert report["coverage_gaps"] == []
    stage = next(f for f in report["findings"] if f["resource_type"] == "AWS::ApiGateway::Stage")
    assert stage["resource_arn"].startswith("arn:aws:apigateway:") and "::/restapis/" in stage["resource_arn"]


def test_fail_on_gates_and_output_file(server: tuple[str, list[Planted]], tmp_path: Path) -> None:
    endpoint, _ = server
    out = tmp_path / "report.json"
    high = relaudit(
        endpoint, "audit", "--regions", "us-east-1", "--fail-on", "HIGH", "--format", "json", "--output", str(out)
    )
    assert high.returncode == 1, high.stderr
    catalog = load_catalog(known_types=COLLECTORS)
    planted_high = [
        p
        for p in server[1]
        if p.region == "us-east-1" and p.expect == "FAILED" and catalog.checks[p.check_id].definition.severity == "HIGH"
    ]
    assert planted_high, "the seed plants at least one HIGH defect"
    assert json.loads(out.read_text())["summary"]["failed_by_severity"]["HIGH"] == len(planted_high)
    narrow = relaudit(
        endpoint, "audit", "--regions", "us-east-1", "--checks", "autoscaling-group-multi-az", "--fail-on", "high"
    )
    assert narrow.returncode == 0, "only MEDIUM failures in this selection"
    assert "batch-asg" in narrow.stdout and "Result: complete" in narrow.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "--regions", "us-east-1,us-nowhere-9"], "unknown region 'us-nowhere-9'"),
        (["audit", "--regions", "not a region"], "'not a region' is not a region name"),
        (["audit", "--regions", "us-east-1", "--checks", "no-such-check"], "unknown check id 'no-such-check'"),
        (["audit", "--fail-on", "SEVERE"], "invalid severity 'SEVERE'"),
        (["audit", "--format", "xml"], "xml"),
        (["audit", "--max-workers", "0"], "--max-workers"),
        (["audit", "--regions", ","], "expected a comma-separated list"),
        (["scan"], "scan"),
    ],
)
def test_bad_input_exits_2_with_one_line(server: tuple[str, list[Planted]], args: list[str], message: str) -> None:
    proc = relaudit(server[0], *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_unreachable_region_is_partial_exit_3(server: tuple[str, list[Planted]]) -> None:
    """A region whose endpoint does not answer is a coverage gap, not a crash."""
    endpoint, _ = server
    env_endpoint = "http://127.0.0.1:9"  # discard port: connection refused
    proc = subprocess.run(
        [*RELAUDIT, "audit", "--regions", "us-east-1", "--checks", "rds-db-instance-multi-az", "--format", "json"],
        env={**os.environ, "AWS_ENDPOINT_URL": env_endpoint, "AWS_ENDPOINT_URL_STS": endpoint},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    gaps = json.loads(proc.stdout)["coverage_gaps"]
    assert [(g["region"], g["resource_type"], g["error_code"]) for g in gaps] == [
        ("us-east-1", "AWS::RDS::DBInstance", "EndpointConnectionError")
    ]


def test_checks_json_lists_metadata(server: tuple[str, list[Planted]]) -> None:
    proc = relaudit(server[0], "checks", "--format", "json")
    assert proc.returncode == 0
    checks: list[dict[str, Any]] = json.loads(proc.stdout)
    by_id = {c["id"]: c for c in checks}
    rds = by_id["rds-db-instance-multi-az"]
    assert rds["references"] == {
        "docs": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZSingleStandby.html",
        "securityhub": "RDS.5",
        "config_rule": "rds-multi-az-support",
        "prowler": "rds_instance_multi_az",
        "service_screener": "MultiAZ",
    }
    assert {"id", "title", "resource_type", "severity", "best_practice", "references", "remediation"} <= set(rds)
