"""The real `relaudit` CLI and Lambda handler against a moto server seeded by someone else, with faults.

The server (tests/support/fault_server.py) runs in its own process, seeded by relaudit.demo.seed,
behind a WSGI middleware that answers real HTTP errors, drops connections and holds responses on
127.0.0.1. The CLI runs as a subprocess with its production client config (standard retries,
5 attempts, real backoff), so nothing here is a stand-in for the code path users run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.config import Config

from relaudit.inventory import load_collector
from tests.conftest import ROOT
from tests.integration.faults.conftest import ACCOUNT, CHECKS, REGIONS, cli_env, relaudit
from tests.support.faults import HANDLER_SCRIPT, access_denied, credentials_expired


def audit_json(server: Any, *extra: str, env_extra: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    checks = ",".join(CHECKS)
    args = ["audit", "--format", "json", "--regions", ",".join(REGIONS), "--checks", checks, *extra]
    done = relaudit(*args, env=cli_env(server.endpoint, **(env_extra or {})))
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


@pytest.fixture(scope="module")
def clean_cli(fault_server: Any) -> dict[str, Any]:
    fault_server.plan()
    code, report, stderr = audit_json(fault_server)
    assert code == 0, stderr
    assert report["coverage_gaps"] == []
    return report


def test_clean_cli_run_finds_every_planted_status(clean_cli: dict[str, Any], fault_server: Any) -> None:
    found = {(f["region"], f["check_id"], f["resource_name"]): f["status"] for f in clean_cli["findings"]}
    planted = {
        (p["region"], p["check_id"], p["name"]): p["expect"] for p in fault_server.planted if p["check_id"] in CHECKS
    }
    assert found == planted


# The CLI's read timeout is 30 s: a held response is only latency to it, so no "read-timeout" here
# (test_real_dropped_connections_and_read_timeouts_are_retried covers real timeouts).
WIRE_KINDS = ("throttle", "internal-error", "unavailable", "reset")


def test_cli_ten_percent_transient_errors_change_no_finding(served: Any, clean_cli: dict[str, Any]) -> None:
    """Every 10th HTTP request fails (cycling kinds); the in-process suite also draws them at random."""
    plan = {"every": 10}
    served.plan(kinds=list(WIRE_KINDS), **plan)
    code, report, _ = audit_json(served)
    stats = served.stats()
    injected = sum(stats["injected"].values())
    print(f"{plan}: {stats}")
    assert injected == stats["requests"] // 10 >= len(WIRE_KINDS)
    assert set(stats["injected"]) == set(WIRE_KINDS)
    assert stats["retries"] == injected  # each fault was retried, once
    assert code == 0
    assert report["coverage_gaps"] == []
    assert report["findings"] == clean_cli["findings"]


def test_cli_denied_service_exits_3_with_a_gap_naming_it(served: Any, clean_cli: dict[str, Any]) -> None:
    served.plan(rules=[access_denied("rds")])
    code, report, _ = audit_json(served)
    assert code == 3
    assert report["summary"]["result"] == "partial"
    gaps = report["coverage_gaps"]
    named = {(g["account_id"], g["region"], g["resource_type"], g["error_code"]) for g in gaps}
    assert {(ACCOUNT, r, "AWS::RDS::DBInstance", "AccessDenied") for r in REGIONS} <= named
    hit = {g["resource_type"] for g in gaps}
    assert all(any(a.startswith("rds:") for a in load_collector(t).IAM_ACTIONS) for t in hit)
    lost = {(g["region"], g["resource_type"]) for g in gaps}
    kept = [f for f in clean_cli["findings"] if (f["region"], f["resource_type"]) not in lost]
    assert report["findings"] == kept, "no finding outside the denied units is lost"


def test_cli_table_output_lists_the_gap(served: Any) -> None:
    served.plan(rules=[access_denied("rds", "eu-west-1")])
    checks = "rds-db-instance-multi-az,sqs-queue-redrive-policy-configured"
    done = relaudit("audit", "--regions", ",".join(REGIONS), "--checks", checks, env=cli_env(served.endpoint))
    assert done.returncode == 3
    assert "Coverage gaps" in done.stdout
    assert "eu-west-1  AWS::RDS::DBInstance  AccessDenied" in done.stdout
    assert "Result: partial" in done.stdout


def test_cli_expired_credentials_before_the_run_exit_2_without_traceback(served: Any) -> None:
    served.plan(rules=[replace(credentials_expired(), exclude=())])  # STS too: no account to audit
    done = relaudit("audit", "--regions", "us-east-1", env=cli_env(served.endpoint))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "cannot identify the AWS account" in done.stderr
    assert "ExpiredToken" in done.stderr


def test_real_dropped_connections_and_read_timeouts_are_retried(served: Any) -> None:
    """Real sockets: the server closes the connection, or answers after the client's read timeout."""
    config = Config(read_timeout=0.5, connect_timeout=2, retries={"mode": "standard", "total_max_attempts": 5})
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=served.endpoint, config=config)
    served.plan(fail_first=2, fail_first_kind="reset")
    assert sqs.list_queues(QueueNamePrefix="orders")["ResponseMetadata"]["RetryAttempts"] == 2
    served.plan(fail_first=1, fail_first_kind="read-timeout", slow_seconds=1.5)
    assert sqs.list_queues(QueueNamePrefix="emails")["ResponseMetadata"]["RetryAttempts"] == 1
    assert served.stats()["injected"] == {"read-timeout": 1}


def test_handler_process_reports_denied_service_as_partial_with_a_metric(served: Any) -> None:
    """The Lambda handler in its own process (like a cold start) against the faulty server."""
    served.plan(rules=[access_denied("rds")])
    event = {"regions": list(REGIONS), "checks": ["rds-db-instance-multi-az", "sqs-queue-redrive-policy-configured"]}
    done = subprocess.run(
        [sys.executable, "-c", HANDLER_SCRIPT, json.dumps(event)],
        env=cli_env(served.endpoint, POWERTOOLS_METRICS_NAMESPACE="relaudit-tests"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=str(ROOT),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    response = json.loads(next(line for line in lines if line.startswith("RESPONSE "))[9:])
    assert response["status"] == "partial"
    assert response["summary"]["coverage_gaps"] == 2
    emf = [json.loads(line) for line in lines if line.startswith("{") and '"_aws"' in line]
    assert [doc["CoverageGaps"] for doc in emf if "CoverageGaps" in doc] in ([2], [[2]], [2.0], [[2.0]])
