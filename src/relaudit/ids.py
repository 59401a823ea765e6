"""Deterministic finding ids: one identity in JSON, Security Hub and DynamoDB."""

from __future__ import annotations

import hashlib


def finding_id(account_id: str, region: str, check_id: str, resource_arn: str) -> str:
    """Return the finding id for one check on one resource.

    WARNING: this format is frozen. Changing it orphans every finding already in Security Hub
    and DynamoDB (a re-run would create duplicates instead of updating them).

    Args:
        account_id: The audited account.
        region: The region the resource lives in.
        check_id: The check's stable id.
        resource_arn: The resource's ARN.

    Returns:
        ``relaudit/<account>/<region>/<check-id>/<sha256 of the four, 32 hex chars>``.
    """
    key = "\x1f".join((account_id, region, check_id, resource_arn)).encode()
    digest = hashlib.sha256(key).hexdigest()[:32]
    return f"relaudit/{account_id}/{region}/{check_id}/{digest}"
