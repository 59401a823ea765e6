"""Security of the auditor itself: read-only calls it declares, no secrets in logs, ids only, log levels.

The read-only proof records every API operation of a full audit (every built-in check, the seeded
account) with a hook on the session (``provide-client-params``, emitted for every call), registered
before the factory makes its first client, so every client is seen.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from typing import Any

import boto3
import pytest

from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.models.request import AuditRequest
from relaudit.permissions import audit_read_actions
from relaudit.run import run
from tests.conftest import ROOT
from tests.integration.faults.conftest import REGIONS, cli_env, relaudit
from tests.support.faults import HANDLER_SCRIPT, Faults, access_denied

READ_PREFIXES = ("List", "Describe", "Get", "BatchGet")
# SigV4 signing names that differ from the IAM service prefix.
IAM_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag"}
# Operations whose IAM action is not named after them.
OPERATION_ACTIONS = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
}
# Operations AWS authorizes without any IAM permission.
NEEDS_NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY00"
TOKEN = "FwoGZXIvYXdzEJr//////////SESSIONTOKEN0000+LONGVALUE=="


def iam_action(service_model: Any, operation_model: Any) -> str:
    """The IAM action an operation is authorized as (API Gateway authorizes by HTTP method)."""
    prefix = IAM_PREFIX.get(service_model.signing_name, service_model.signing_name)
    if (prefix, operation_model.name) in OPERATION_ACTIONS:
        return OPERATION_ACTIONS[(prefix, operation_model.name)]
    if prefix == "apigateway":
        return f"apigateway:{operation_model.http['method']}"
    return f"{prefix}:{operation_model.name}"


def test_a_full_audit_only_reads_and_only_what_collectors_declare(account: Any, make_factory: Any) -> None:
    calls: set[tuple[str, str, str]] = set()

    def record(model: Any, **_: Any) -> None:
        calls.add((model.service_model.service_name, model.name, iam_action(model.service_model, model)))

    session = boto3.session.Session()
    # provide-client-params fires for every call, even one a before-call hook answers (moto_gaps).
    session.events.register("provide-client-params", record)  # before any client: it reaches them all
    factory = make_factory(max_attempts=1, session=session)
    catalog = load_catalog(known_types=COLLECTORS)
    result = run(AuditRequest(regions=list(REGIONS), max_workers=4), catalog, factory)
    print(f"{len(calls)} operations, {len(result.findings)} findings, {len(result.coverage_gaps)} gaps")
    assert len(calls) >= 10
    writes = sorted(f"{service}.{op}" for service, op, _ in calls if not op.startswith(READ_PREFIXES))
    assert writes == [], "the audit must only read"
    for service, op, action in sorted(calls):
        if action.startswith("apigateway:"):
            assert action == "apigateway:GET", f"{service}.{op}"
    undeclared = sorted({action for _, _, action in calls} - audit_read_actions() - NEEDS_NO_PERMISSION)
    assert undeclared == [], "called but not declared by any collector (the role would be denied)"


LOG_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Names the seed gives resources: account data that must not appear in logs except inside an ARN.
SEEDED_NAMES = ("orders-db", "reports-db", "web-alb", "ingest-nlb", "web-asg", "batch-asg", "orders-dlq", "emails")
SEEDED_NAMES += ("checkout", "thumbnailer", "notifier", "storefront", "mobile-http", "webhooks-http")


def logged_text(records: list[logging.LogRecord]) -> str:
    """Every message and structured extra of ``records``, as one string."""
    parts = []
    for record in records:
        extras = {k: v for k, v in vars(record).items() if k not in LOG_RECORD_FIELDS}
        parts.append(record.getMessage() + " " + json.dumps(extras, default=str))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def test_no_secrets_and_only_ids_in_relaudit_logs(
    account: Any,
    make_factory: Any,
    catalog: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    caplog.set_level(logging.INFO)  # what `relaudit audit -v` shows
    caplog.set_level(logging.DEBUG, logger="relaudit")  # LOG_LEVEL=DEBUG in Lambda
    faults = Faults(rules=[access_denied("rds", "eu-west-1")], every=7)  # warnings and retries too
    request = AuditRequest(regions=list(REGIONS), checks=sorted(catalog.checks), max_workers=4)
    result = run(request, catalog, make_factory(faults))
    assert result.coverage_gaps, "the run must have logged a failed unit"
    text = logged_text(caplog.records)
    assert caplog.records, "relaudit logs at INFO and DEBUG"
    assert SECRET not in text and TOKEN not in text
    assert SECRET[:16] not in text and TOKEN[:16] not in text
    ours = logged_text([r for r in caplog.records if r.name.startswith("relaudit")])
    without_arns = re.sub(r"arn:[\w:/.*+=,@-]+", "<arn>", ours)
    leaked = [name for name in SEEDED_NAMES if name in without_arns]
    assert leaked == [], "account data must be logged as ids (ARNs, unit keys), not names"


def test_cli_verbose_logs_info_and_never_the_secrets(fault_server: Any) -> None:
    fault_server.plan(rules=[access_denied("rds")])
    env = cli_env(fault_server.endpoint, AWS_SECRET_ACCESS_KEY=SECRET, AWS_SESSION_TOKEN=TOKEN)
    args = [
        "audit",
        "--regions",
        "us-east-1",
        "--checks",
        "rds-db-instance-multi-az,sqs-queue-redrive-policy-configured",
    ]
    try:
        quiet = relaudit(*args, env=env)
        verbose = relaudit(*args, "-v", env=env)
    finally:
        fault_server.plan()
    assert quiet.returncode == verbose.returncode == 3
    assert not re.search(r"^(INFO|DEBUG) ", quiet.stderr, re.MULTILINE), "no -v: warnings and errors only"
    assert "WARNING relaudit.run: unit failed" in quiet.stderr
    assert "INFO relaudit.plan: planned audit" in verbose.stderr
    for output in (quiet.stdout + quiet.stderr, verbose.stdout + verbose.stderr):
        assert SECRET not in output and TOKEN not in output
        assert "Traceback" not in output


@pytest.mark.parametrize(("variable", "level"), [("POWERTOOLS_LOG_LEVEL", "DEBUG"), ("LOG_LEVEL", "ERROR")])
def test_lambda_log_level_from_environment(variable: str, level: str, fault_server: Any) -> None:
    fault_server.plan()
    event = {"regions": ["us-east-1"], "checks": ["sqs-queue-redrive-policy-configured"]}
    env = cli_env(fault_server.endpoint, AWS_SECRET_ACCESS_KEY=SECRET, AWS_SESSION_TOKEN=TOKEN, **{variable: level})
    env.pop("POWERTOOLS_LOG_LEVEL" if variable == "LOG_LEVEL" else "LOG_LEVEL", None)
    done = subprocess.run(
        [sys.executable, "-c", HANDLER_SCRIPT, json.dumps(event)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=str(ROOT),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    logs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"level"')]
    levels = {entry["level"] for entry in logs}
    if level == "DEBUG":
        assert "INFO" in levels
        assert any(entry["message"] == "audit finished" for entry in logs)
    else:
        assert levels <= {"ERROR", "CRITICAL"}
    assert SECRET not in done.stdout + done.stderr and TOKEN not in done.stdout + done.stderr
