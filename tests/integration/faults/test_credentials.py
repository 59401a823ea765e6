"""Long runs on assumed roles: credentials are refreshed before they expire, and clients follow.

moto's AssumeRole answers with credentials valid for DurationSeconds (900 at least); an
``after-call`` hook shortens their Expiration to a few seconds so a refresh happens within the test.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import boto3
import pytest

from relaudit.aws import ClientFactory
from relaudit.credentials import assumed_role_session

MEMBER = "222222222222"
ROLE = f"arn:aws:iam::{MEMBER}:role/RelauditAudit"
KEY_ID = re.compile(r"Credential=([A-Z0-9]+)/")
LIFETIME, MARGIN = 5.0, 3  # credentials valid 5 s, refreshed once less than 3 s are left


@pytest.fixture
def base(account: Any) -> Any:
    """The caller's session, recording each AssumeRole (params, expiry) and shortening expiries."""
    session = boto3.session.Session()
    session.assumed = []  # type: ignore[attr-defined]
    session.lifetime = LIFETIME  # type: ignore[attr-defined]

    def shorten(parsed: dict[str, Any], **_: Any) -> None:
        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=session.lifetime)  # type: ignore[attr-defined]
        parsed["Credentials"]["Expiration"] = expiry

    def record(params: dict[str, Any], **_: Any) -> None:
        session.assumed.append((time.monotonic(), dict(params)))  # type: ignore[attr-defined]

    session.events.register("provide-client-params.sts.AssumeRole", record)
    session.events.register("after-call.sts.AssumeRole", shorten)
    return session


def signing_keys(session: Any) -> list[str]:
    """Access key ids the session's clients sign with, in order (filled as requests go out)."""
    keys: list[str] = []

    def record(request: Any, **_: Any) -> None:
        header = request.headers.get("Authorization", b"")
        found = KEY_ID.search(header.decode() if isinstance(header, bytes) else header)
        keys.append(found.group(1) if found else "")

    session.events.register("before-send", record)
    return keys


def test_credentials_refresh_before_they_expire(base: Any) -> None:
    session = assumed_role_session(
        base, ROLE, external_id="ext-123", session_name="relaudit-test", duration=900, refresh_margin=MARGIN
    )
    assert base.assumed == [], "no AWS call until the credentials are used"
    keys = signing_keys(session)
    sts = ClientFactory(session=session).client("sts")  # one cached client for the whole "run"

    identity = sts.get_caller_identity()
    assert identity["Account"] == MEMBER
    assert identity["Arn"].endswith(":assumed-role/RelauditAudit/relaudit-test")
    [(_, params)] = base.assumed
    assert params == {
        "RoleArn": ROLE,
        "RoleSessionName": "relaudit-test",
        "DurationSeconds": 900,
        "ExternalId": "ext-123",
    }
    sts.get_caller_identity()  # about 5 s left, more than the 3 s margin: no refresh
    assert len(base.assumed) == 1

    first_expiry = base.assumed[0][0] + LIFETIME
    time.sleep(max(0.0, first_expiry - MARGIN + 0.3 - time.monotonic()))  # under 3 s left, still valid
    sts.get_caller_identity()
    assert len(base.assumed) == 2
    assert first_expiry - base.assumed[1][0] > 0.5, "refreshed while the old credentials were still valid"
    assert keys[0] == keys[1] != keys[2], "the same client signs with the new credentials"
    assert sts.get_caller_identity()["Account"] == MEMBER


def test_long_lived_credentials_are_fetched_once(base: Any) -> None:
    base.lifetime = 3600.0
    factory = ClientFactory(session=assumed_role_session(base, ROLE))
    for _ in range(3):
        factory.client("sts").get_caller_identity()
        factory.client("sqs", "eu-west-1").list_queues()
    [(_, params)] = base.assumed
    assert params["RoleSessionName"] == "relaudit"
    assert "ExternalId" not in params
    assert params["DurationSeconds"] == 3600


def test_member_account_data_is_isolated(base: Any) -> None:
    """The seeded queues live in 123456789012; the member account's view is its own (moto isolates)."""
    base.lifetime = 3600.0
    member = ClientFactory(session=assumed_role_session(base, ROLE))
    assert member.client("sqs", "us-east-1").list_queues().get("QueueUrls", []) == []
    assert boto3.client("sqs", region_name="us-east-1").list_queues()["QueueUrls"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role_arn": "RelauditAudit"}, "role_arn"),
        ({"session_name": "a b"}, "session_name"),
        ({"duration": 60}, "duration"),
        ({"duration": 900, "refresh_margin": 900}, "refresh_margin"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    arguments = {"role_arn": ROLE, **kwargs}
    with pytest.raises(ValueError, match=f"^{field}: "):
        assumed_role_session(boto3.session.Session(), **arguments)
