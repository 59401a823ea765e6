"""Sink test helpers: findings to publish, ASFF validation, and fault injection through botocore hooks."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable, Iterable
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.validate import ParamValidator

from relaudit.ids import finding_id
from relaudit.models.check import References, Severity, Status
from relaudit.models.finding import Finding
from relaudit.sinks.asff import asff_problems
from relaudit.sinks.retry import DeliveryOptions

ACCOUNT = "123456789012"
_SH_MODEL = botocore.session.get_session().get_service_model("securityhub")
_IMPORT_SHAPE = _SH_MODEL.operation_model("BatchImportFindings").input_shape


def make_finding(
    name: str = "orders",
    *,
    status: Status = Status.FAILED,
    check_id: str = "sqs-queue-redrive-policy-configured",
    region: str = "us-east-1",
    account_id: str = ACCOUNT,
    severity: Severity = Severity.MEDIUM,
    resource_type: str = "AWS::SQS::Queue",
    arn: str | None = None,
) -> Finding:
    """A finding as evaluate() would make it (ids from relaudit.ids)."""
    arn = arn or f"arn:aws:sqs:{region}:{account_id}:{name}"
    return Finding(
        id=finding_id(account_id, region, check_id, arn),
        check_id=check_id,
        title="SQS queue has a dead-letter queue",
        status=status,
        severity=severity,
        resource_arn=arn,
        resource_type=resource_type,
        resource_name=name,
        region=region,
        account_id=account_id,
        best_practice="REL05-BP04",
        reason=f"{name} ({resource_type}) does not meet the check: SQS queue has a dead-letter queue.",
        references=References(securityhub="SQS.3", prowler="sqs_queues_dead_letter_queue_configured"),
        remediation_text="Set a RedrivePolicy that points at a dead-letter queue.",
        remediation_url="https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html",
    )


def botocore_errors(findings: list[dict[str, Any]]) -> str:
    """botocore's own validation of a BatchImportFindings request ('' when valid)."""
    report = ParamValidator().validate({"Findings": findings}, _IMPORT_SHAPE)
    return report.generate_report() if report.has_errors() else ""


def assert_valid_asff(findings: Iterable[dict[str, Any]]) -> None:
    """Valid against botocore's BatchImportFindings input shape AND relaudit's ASFF model (with 240 KB)."""
    findings = list(findings)
    assert findings, "nothing to validate"
    assert botocore_errors(findings) == ""
    for finding in findings:
        assert asff_problems(finding) == [], finding["Id"]


class FakeTime:
    """A monotonic clock that only moves when slept on, and a recorder of every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def fast_options(clock: Callable[[], dt.datetime] | None = None, **kwargs: Any) -> tuple[DeliveryOptions, FakeTime]:
    """DeliveryOptions that never really sleep (backoff and pacing go to a FakeTime)."""
    fake = FakeTime()
    extra: dict[str, Any] = {"clock": clock} if clock else {}
    options = DeliveryOptions(sleep=fake.sleep, monotonic=fake.monotonic, rng=random.Random(7), **extra, **kwargs)
    return options, fake


def all_sh_findings(client: Any) -> list[dict[str, Any]]:
    """Every finding in one account+region's Security Hub (moto ignores Filters, so tests filter here)."""
    return [f for page in client.get_paginator("get_findings").paginate() for f in page["Findings"]]


# --- fault injection ---------------------------------------------------------------------------


def _event(client: Any, stage: str, operation: str) -> str:
    return f"{stage}.{client.meta.service_model.service_id.hyphenize()}.{operation}"


def fail_calls(client: Any, operation: str, code: str, times: int | None = None, status: int = 400) -> list[int]:
    """Answer ``operation`` with error ``code`` (the first ``times`` calls, or always) before it reaches moto.

    A ``before-call`` short-circuit: no botocore retry, protocol-independent. Returns a list that
    fills with one entry per injected failure.
    """
    injected: list[int] = []

    def handler(**_: Any) -> Any:
        if times is not None and len(injected) >= times:
            return None
        injected.append(1)
        return (
            AWSResponse("https://injected", status, {}, None),
            {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        )

    client.meta.events.register_first(_event(client, "before-call", operation), handler)
    return injected


def fail_some_findings(
    client: Any, choose: Callable[[int, list[str]], set[str]], code: str | Callable[[str], str] = "InternalFailure"
) -> list[list[str]]:
    """Make BatchImportFindings report the findings ``choose(call_number, ids)`` picks as FailedFindings.

    ``code`` is the ErrorCode, or a function of the finding id giving it. Install it once per client
    (botocore sends the parameters of the first handler that returns any).

    The picked findings are removed from the request before moto sees it (so moto does not store
    them, as the real service would not), then added to the response's FailedFindings. Returns the
    ids each call failed.
    """
    failed_per_call: list[list[str]] = []
    everything_failed: list[bool] = []

    def strip(params: dict[str, Any], **_: Any) -> dict[str, Any]:
        ids = [f["Id"] for f in params["Findings"]]
        picked = choose(len(failed_per_call) + 1, ids)
        failed_per_call.append([i for i in ids if i in picked])
        kept = [f for f in params["Findings"] if f["Id"] not in picked]
        everything_failed[:] = [not kept]
        return {**params, "Findings": kept or params["Findings"]}

    def skip_moto(**_: Any) -> Any:
        if everything_failed and everything_failed[0]:  # an empty batch would not pass botocore: answer here
            return (
                AWSResponse("https://injected", 200, {}, None),
                {
                    "SuccessCount": 0,
                    "FailedCount": 0,
                    "FailedFindings": [],
                    "ResponseMetadata": {"HTTPStatusCode": 200},
                },
            )
        return None

    def report(parsed: dict[str, Any], **_: Any) -> None:
        failed = failed_per_call[-1]
        if not failed:
            return
        parsed["FailedFindings"] = [
            *parsed.get("FailedFindings", []),
            *(
                {"Id": i, "ErrorCode": code if isinstance(code, str) else code(i), "ErrorMessage": "injected"}
                for i in failed
            ),
        ]
        parsed["FailedCount"] = len(parsed["FailedFindings"])

    client.meta.events.register_first(_event(client, "provide-client-params", "BatchImportFindings"), strip)
    client.meta.events.register_first(_event(client, "before-call", "BatchImportFindings"), skip_moto)
    client.meta.events.register(_event(client, "after-call", "BatchImportFindings"), report)
    return failed_per_call


def leave_unprocessed(client: Any, choose: Callable[[int, int], int]) -> list[int]:
    """Make BatchWriteItem leave ``choose(call_number, items)`` items unprocessed (moto never does).

    Those items are kept from moto and returned under UnprocessedItems, as DynamoDB does under load.
    Returns how many items each call left unprocessed.
    """
    left_per_call: list[int] = []
    lock = threading.Lock()
    calls = threading.local()  # scopes publish on several threads: each call's held items are its own

    def strip(params: dict[str, Any], **_: Any) -> dict[str, Any]:
        ((table, requests),) = params["RequestItems"].items()
        with lock:
            count = min(choose(len(left_per_call) + 1, len(requests)), len(requests))
            left_per_call.append(count)
        calls.held = {"table": table, "requests": requests[len(requests) - count :], "all": count == len(requests)}
        return {**params, "RequestItems": {table: requests[: len(requests) - count] or requests}}

    def skip_moto(**_: Any) -> Any:
        held = getattr(calls, "held", None)
        if held and held["all"]:  # nothing processed: answer without moto (an empty request is invalid)
            return (AWSResponse("https://injected", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}})
        return None

    def report(parsed: dict[str, Any], **_: Any) -> None:
        held = getattr(calls, "held", None)
        if held and held["requests"]:
            parsed["UnprocessedItems"] = {held["table"]: held["requests"]}

    client.meta.events.register_first(_event(client, "provide-client-params", "BatchWriteItem"), strip)
    client.meta.events.register_first(_event(client, "before-call", "BatchWriteItem"), skip_moto)
    client.meta.events.register(_event(client, "after-call", "BatchWriteItem"), report)
    return left_per_call


def count_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """Record the parameters of every ``operation`` call the client makes."""
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    client.meta.events.register(_event(client, "provide-client-params", operation), record)
    return seen
