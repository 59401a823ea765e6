"""`make demo` end to end: the embedded account is seeded, audited, and the defects shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys

GROUP = re.compile(r"^(FAILED|UNKNOWN|PASSED|NOT_APPLICABLE)\s+\S+\s+(\S+) \((\d+)\)  .+$")
RESOURCE = re.compile(r"^    (\S+)\s+(\S+)$")


def _groups(stdout: str) -> list[tuple[str, str, int, list[tuple[str, str]]]]:
    """The terminal view's groups: (status, check, count, [(region, resource name)])."""
    groups: list[tuple[str, str, int, list[tuple[str, str]]]] = []
    for line in stdout.splitlines():
        header = GROUP.match(line)
        if header:
            groups.append((header.group(1), header.group(2), int(header.group(3)), []))
            continue
        resource = RESOURCE.match(line)
        if resource and groups and not line.lstrip().startswith("fix:"):
            groups[-1][3].append((resource.group(1), resource.group(2)))
    return groups


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "relaudit.demo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_shows_planted_defects_failed_first_grouped_by_check_and_compliant_as_passed() -> None:
    proc = _demo("--show-passed")  # what `make demo` shows, plus the PASSED groups
    assert proc.returncode == 0, proc.stderr[-2000:]
    groups = _groups(proc.stdout)
    statuses = [status for status, *_ in groups]
    assert statuses == sorted(statuses, key=["FAILED", "UNKNOWN", "PASSED"].index), "FAILED first"
    for _, _, count, resources in groups:
        assert count == len(resources)
    listed = {(region, check, name): status for status, check, _, resources in groups for region, name in resources}
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        assert listed[(region, "rds-db-instance-multi-az", "reports-db")] == "FAILED"
        assert listed[(region, "rds-db-instance-multi-az", "orders-db")] == "PASSED"
        assert listed[(region, "sqs-queue-redrive-policy-configured", "emails")] == "FAILED"
        assert listed[(region, "lambda-function-vpc-multi-az", "checkout")] == "PASSED"
    assert re.search(r"^    fix: \S.+https://docs\.aws\.amazon\.com/", proc.stdout, re.M), (
        "each failure says how to fix it"
    )
    assert "--show-passed lists them" not in proc.stdout
    assert "127.0.0.1" in proc.stderr, "the embedded account listens on loopback only"
