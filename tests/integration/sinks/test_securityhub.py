"""Security Hub import on moto: batching, pacing, retries of FailedFindings, throttling, InvalidAccess, accounts.

moto accepts any ASFF, has no 100-finding limit and never fails a finding on its own (moto-notes
§2): limits are asserted on the calls the sink makes, and faults are injected with botocore hooks.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from relaudit.aws import ClientFactory, client_config
from relaudit.sinks.asff import to_asff
from relaudit.sinks.securityhub import import_findings
from tests.integration.sinks.helpers import (
    ACCOUNT,
    all_sh_findings,
    assert_valid_asff,
    count_calls,
    fail_calls,
    fail_some_findings,
    make_finding,
)

NOW = "2026-03-01T06:00:00.000Z"


def asffs(count: int, region: str = "us-east-1", account: str = ACCOUNT) -> list[dict[str, Any]]:
    return [
        to_asff(make_finding(f"queue-{i:04d}", region=region, account_id=account), created_at=NOW, updated_at=NOW)
        for i in range(count)
    ]


def accounted_for(outcome: Any, sent: list[dict[str, Any]]) -> None:
    """Every finding handed over ends in exactly one bucket."""
    ids = [f["Id"] for f in sent]
    buckets = [outcome.delivered, set(outcome.failed), outcome.not_enabled]
    assert set().union(*buckets) == set(ids)
    assert sum(len(b) for b in buckets) == len(ids)


def test_batches_of_100_each_finding_stored_once(factory: Any, options: Any) -> None:
    sh = factory.client("securityhub")
    calls = count_calls(sh, "BatchImportFindings")
    sent = asffs(250)
    outcome = import_findings(sent, {ACCOUNT: factory}, options[0])
    assert [len(c["Findings"]) for c in calls] == [100, 100, 50]
    assert outcome.delivered == {f["Id"] for f in sent} and not outcome.failed
    stored = all_sh_findings(sh)
    assert sorted(f["Id"] for f in stored) == sorted(f["Id"] for f in sent)
    assert_valid_asff(sent)


def test_calls_are_paced_under_the_rate_limit(factory: Any, options: Any) -> None:
    opts, fake = options
    import_findings(asffs(450), {ACCOUNT: factory}, opts)  # 5 calls
    assert opts.rate_per_second < 10
    assert fake.sleeps == pytest.approx([1 / opts.rate_per_second] * 4)  # no real sleep: a fake clock


def test_throttled_calls_are_retried_with_backoff(factory: Any, options: Any) -> None:
    opts, fake = options
    sh = factory.client("securityhub")
    injected = fail_calls(sh, "BatchImportFindings", "ThrottlingException", times=2, status=429)
    sent = asffs(30)
    outcome = import_findings(sent, {ACCOUNT: factory}, opts)
    assert len(injected) == 2
    assert outcome.delivered == {f["Id"] for f in sent} and outcome.calls == 3
    backoffs = [s for s in fake.sleeps if s != pytest.approx(1 / opts.rate_per_second)]
    assert len(backoffs) == 2 and 0 < backoffs[0] < backoffs[1] <= opts.max_delay
    assert len(all_sh_findings(sh)) == 30


def test_throttling_that_never_stops_is_reported_not_dropped(factory: Any, options: Any) -> None:
    sh = factory.client("securityhub")
    fail_calls(sh, "BatchImportFindings", "ThrottlingException", status=429)
    sent = asffs(120)
    outcome = import_findings(sent, {ACCOUNT: factory}, options[0])
    assert outcome.failed == {f["Id"]: "ThrottlingException" for f in sent}
    accounted_for(outcome, sent)
    assert outcome.calls == 2 * options[0].max_attempts  # both batches tried to the limit


def test_failed_findings_are_retried_alone(factory: Any, options: Any) -> None:
    sh = factory.client("securityhub")
    sent = asffs(150)
    flaky = {f["Id"] for f in sent[::7]}
    per_call = fail_some_findings(sh, lambda call, ids: flaky if call in (1, 3) else set())
    calls = count_calls(sh, "BatchImportFindings")
    outcome = import_findings(sent, {ACCOUNT: factory}, options[0])
    assert outcome.delivered == {f["Id"] for f in sent} and not outcome.failed
    # Call 1: first 100 (15 fail); call 2: only those 15 again; call 3: the last 50 (7 fail); call 4: those 7.
    assert [len(c["Findings"]) for c in calls] == [100, 15, 50, 7]
    assert {i for ids in per_call for i in ids} == flaky
    assert sorted(f["Id"] for f in all_sh_findings(sh)) == sorted(f["Id"] for f in sent)


def test_findings_that_keep_failing_are_reported_with_their_code(factory: Any, options: Any) -> None:
    sh = factory.client("securityhub")
    sent = asffs(40)
    doomed = {f["Id"] for f in sent[:3]}
    invalid = {sent[3]["Id"]}
    fail_some_findings(
        sh,
        lambda call, ids: (doomed | invalid) & set(ids),
        code=lambda finding_id: "InvalidInput" if finding_id in invalid else "InternalFailure",
    )
    outcome = import_findings(sent, {ACCOUNT: factory}, options[0])
    assert outcome.failed == {**dict.fromkeys(doomed, "InternalFailure"), **dict.fromkeys(invalid, "InvalidInput")}
    accounted_for(outcome, sent)
    assert {f["Id"] for f in all_sh_findings(sh)} == {f["Id"] for f in sent} - doomed - invalid


def test_invalid_access_is_a_note_for_that_region_only(factory: Any, options: Any) -> None:
    # moto imports findings even where Security Hub was never enabled; the real service answers
    # InvalidAccessException, so it is injected for eu-west-1.
    fail_calls(factory.client("securityhub", "eu-west-1"), "BatchImportFindings", "InvalidAccessException")
    east, west = asffs(120), asffs(30, region="eu-west-1")
    outcome = import_findings(east + west, {ACCOUNT: factory}, options[0])
    assert outcome.delivered == {f["Id"] for f in east}
    assert outcome.not_enabled == {f["Id"] for f in west} and not outcome.failed
    assert outcome.notes == [
        f"Security Hub is not enabled in {ACCOUNT}/eu-west-1 (InvalidAccessException): "
        "its findings were not imported there; they are in the other sinks"
    ]
    accounted_for(outcome, east + west)


def test_access_denied_fails_the_region_without_retrying(factory: Any, options: Any) -> None:
    sh = factory.client("securityhub")
    injected = fail_calls(sh, "BatchImportFindings", "AccessDeniedException", status=403)
    sent = asffs(210)
    outcome = import_findings(sent, {ACCOUNT: factory}, options[0])
    assert len(injected) == 1, "a permanent error stops the region's later batches"
    assert set(outcome.failed.values()) == {"AccessDeniedException"}
    accounted_for(outcome, sent)


def test_invalid_asff_is_reported_and_the_rest_delivered(factory: Any, options: Any) -> None:
    sent = asffs(5)
    sent[2] = {**sent[2], "Severity": {"Label": "SEVERE", "Original": "x"}}
    outcome = import_findings(sent, {ACCOUNT: factory}, options[0])
    assert outcome.failed == {sent[2]["Id"]: "InvalidAsff"}
    assert len(outcome.delivered) == 4


def test_each_account_imports_its_own_findings(factory: Any, options: Any) -> None:
    member = "222222222222"
    creds = factory.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/relaudit-member", RoleSessionName="audit"
    )["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )
    member_factory = ClientFactory(session=session, config=client_config(4, max_attempts=1))
    ours, theirs, orphan = asffs(3), asffs(4, account=member), asffs(2, account="333333333333")
    outcome = import_findings(ours + theirs + orphan, {ACCOUNT: factory, member: member_factory}, options[0])
    # moto keeps each account's Security Hub apart: each finding lands in its own account.
    assert {f["AwsAccountId"] for f in all_sh_findings(factory.client("securityhub"))} == {ACCOUNT}
    assert sorted(f["Id"] for f in all_sh_findings(member_factory.client("securityhub"))) == sorted(
        f["Id"] for f in theirs
    )
    assert outcome.failed == dict.fromkeys((f["Id"] for f in orphan), "NoCredentialsForAccount")
    accounted_for(outcome, ours + theirs + orphan)


def test_a_throttled_batch_is_tried_max_attempts_times_not_retries_of_retries(options: Any) -> None:
    """The sink's clients make one attempt a call: its own loop is the one retry policy for writes.

    Throttles are injected before the request is sent (``before-send``), so botocore's retry
    handler sees them as it would see a 429 off the wire; with the audit's 5 attempts per call
    the sink's 5 tries would have been 25 requests.
    """
    from botocore.awsrequest import AWSResponse

    factory = ClientFactory(session=boto3.session.Session(), config=client_config(4, max_attempts=5))
    assert factory.writer("securityhub") is not factory.client("securityhub")
    sends: list[int] = []

    def throttle(**_: Any) -> AWSResponse:
        sends.append(1)
        body = b'{"__type": "ThrottlingException", "message": "injected"}'
        return AWSResponse("https://injected", 429, {"x-amzn-ErrorType": "ThrottlingException"}, _Raw(body))

    factory.writer("securityhub").meta.events.register("before-send.securityhub.BatchImportFindings", throttle)
    sent = asffs(30)
    outcome = import_findings(sent, {ACCOUNT: factory}, options[0])
    assert outcome.failed == {f["Id"]: "ThrottlingException" for f in sent}
    assert len(sends) == options[0].max_attempts


def test_a_factory_whose_clients_try_once_writes_with_the_same_client() -> None:
    factory = ClientFactory(session=boto3.session.Session(), config=client_config(4, max_attempts=1))
    assert factory.writer("dynamodb") is factory.client("dynamodb")


class _Raw:
    """The raw stream botocore reads an injected response's body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body
