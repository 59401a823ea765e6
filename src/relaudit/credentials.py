"""Sessions on assumed roles whose credentials refresh themselves before they expire."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials

from relaudit.aws import client_config
from relaudit.errors import RelauditError

if TYPE_CHECKING:
    from botocore.credentials import Credentials

logger = logging.getLogger(__name__)

DEFAULT_SESSION_NAME = "relaudit"
MIN_DURATION, MAX_DURATION = 900, 43200  # sts:AssumeRole DurationSeconds bounds
_SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
_METHOD = "relaudit-assume-role"


class _AssumedRoleCredentials(DeferredRefreshableCredentials):
    """Credentials fetched on first use and again whenever less than ``margin`` seconds remain.

    botocore refreshes at the advisory timeout without blocking (a failure keeps the current
    credentials and is retried on the next call) and blocks at the mandatory timeout; both are set
    from the margin so refreshes happen well before expiry.
    """

    def __init__(self, refresh_using: Any, margin: float) -> None:
        super().__init__(refresh_using=refresh_using, method=_METHOD)
        self._advisory_refresh_timeout = int(margin)
        self._mandatory_refresh_timeout = int(margin / 2)


class _Provider(CredentialProvider):
    """Hands one credentials object to a botocore session (its only credential source)."""

    METHOD = _METHOD
    CANONICAL_NAME = "RelauditAssumeRole"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        """Return the refreshing credentials (botocore calls this once per session)."""
        return self._credentials


def _validate(role_arn: str, session_name: str, duration: int, refresh_margin: float) -> None:
    if not role_arn.startswith("arn:") or ":role/" not in role_arn:
        raise ValueError(f"role_arn: '{role_arn}' is not an IAM role ARN")
    if not _SESSION_NAME_RE.match(session_name):
        raise ValueError(f"session_name: '{session_name}' must be 2-64 of letters, digits and +=,.@_-")
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise ValueError(f"duration: {duration} must be between {MIN_DURATION} and {MAX_DURATION} seconds")
    if not 0 < refresh_margin < duration:
        raise ValueError(f"refresh_margin: {refresh_margin} must be positive and less than the duration")


def assumed_role_session(
    base_session: boto3.session.Session,
    role_arn: str,
    external_id: str | None = None,
    session_name: str = DEFAULT_SESSION_NAME,
    duration: int = 3600,
    refresh_margin: float | None = None,
    region_name: str | None = None,
) -> boto3.session.Session:
    """Return a boto3 session on ``role_arn`` whose credentials renew themselves.

    No AWS call is made here: the role is assumed on first use, and again whenever less than
    ``refresh_margin`` seconds of the credentials remain, so a run longer than ``duration`` never
    signs with expired credentials. Every client of the session (a ClientFactory's included) shares
    the one credentials object, so they all switch together. The returned session, like any boto3
    session, is not thread-safe for making clients: give it to one ClientFactory.

    Args:
        base_session: The caller's session (it must be allowed ``sts:AssumeRole`` on the role).
        role_arn: The role to assume, e.g. ``arn:aws:iam::222222222222:role/RelauditAudit``.
        external_id: The ExternalId the role's trust policy requires, if any.
        session_name: RoleSessionName, visible in the member account's CloudTrail.
        duration: DurationSeconds asked for (900-43200; the role's maximum applies).
        refresh_margin: Seconds before expiry at which to refresh; default a quarter of
            ``duration``, at most 15 minutes.
        region_name: Region of the new session (and of the STS endpoint); default the base session's.

    Returns:
        A boto3 session for the role.

    Raises:
        ValueError: An argument is out of range (names it).
    """
    margin = refresh_margin if refresh_margin is not None else min(900.0, duration / 4)
    _validate(role_arn, session_name, duration, margin)
    region = region_name or base_session.region_name or "us-east-1"
    make: Any = base_session.client
    sts = make("sts", region_name=region, config=client_config(max_workers=1))
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name, "DurationSeconds": duration}
    if external_id is not None:
        params["ExternalId"] = external_id

    def fetch() -> dict[str, Any]:
        credentials = sts.assume_role(**params)["Credentials"]
        logger.info("assumed role", extra={"role_arn": role_arn, "expires": credentials["Expiration"].isoformat()})
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    session = botocore.session.Session()
    session.register_component(
        "credential_provider", CredentialResolver([_Provider(_AssumedRoleCredentials(fetch, margin))])
    )
    return boto3.session.Session(botocore_session=session, region_name=region)


def assume_now(session: boto3.session.Session) -> None:
    """Fetch ``session``'s credentials now (for an assumed-role session: the AssumeRole call), so a
    refused role fails here, once, rather than in every client's first call.

    Raises:
        RelauditError: The session has no credentials.
        ClientError, BotoCoreError: The role could not be assumed.
    """
    credentials = session.get_credentials()
    if credentials is None:
        raise RelauditError("no AWS credentials to assume the role with")
    credentials.get_frozen_credentials()
