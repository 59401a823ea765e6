"""`make demo` end to end: the embedded account is seeded, audited, and the defects shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from relaudit.demo import graph_workloads


def test_demo_shows_planted_defects_as_failed_and_compliant_as_passed() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run(
        [sys.executable, "-m", "relaudit.demo"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = re.findall(r"^(PASSED|FAILED)\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)$", proc.stdout, flags=re.MULTILINE)
    statuses = {(region, check, name): status for status, check, region, name in rows}
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        assert statuses[(region, "rds-db-instance-multi-az", "reports-db")] == "FAILED"
        assert statuses[(region, "rds-db-instance-multi-az", "orders-db")] == "PASSED"
        assert statuses[(region, "sqs-queue-redrive-policy-configured", "emails")] == "FAILED"
        assert statuses[(region, "lambda-function-vpc-multi-az", "checkout")] == "PASSED"
    for (check, name), expected in graph_workloads.EXPECTED.items():  # the workload graph's stacks
        assert statuses[("us-east-1", check, name)] == expected, (check, name)
    assert "127.0.0.1" in proc.stderr, "the embedded account listens on loopback only"
