"""BatchUpdateFindings for in-process moto, which does not implement it (moto 5.2.6).

A botocore before-call hook on a factory's Security Hub clients answers the call the way the API
reference describes it (ProcessedFindings / UnprocessedFindings with FindingNotFound for an unknown
identifier) and writes Workflow and Note onto moto's own stored finding, so moto's GetFindings then
shows them. moto's BatchImportFindings merges a re-import into the stored finding (dict.update),
so Workflow and Note survive re-imports that do not carry them, as they do on AWS.

Where moto is silent, and this hook does not pretend otherwise: moto sets no Workflow on import
(AWS starts every finding at Workflow.Status NEW), ignores GetFindings' filters, and never resets a
workflow by itself (AWS resets NOTIFIED/RESOLVED, never SUPPRESSED, to NEW when a finding fails again).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSResponse, HTTPHeaders

if TYPE_CHECKING:
    from collections.abc import Iterable

    from relaudit.aws import ClientFactory


def _backend(account: str, region: str) -> Any:
    from moto.backends import get_backend

    return get_backend("securityhub")[account][region]


def batch_update_findings(account: str, region: str, request: dict[str, Any]) -> dict[str, Any]:
    """Apply one BatchUpdateFindings request to moto's findings of ``account`` in ``region``."""
    stored = {finding.id: finding for finding in _backend(account, region).findings}
    processed, unprocessed = [], []
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for identifier in request["FindingIdentifiers"]:
        finding = stored.get(identifier["Id"])
        if finding is None or finding.data.get("ProductArn") != identifier["ProductArn"]:
            unprocessed.append(
                {"FindingIdentifier": identifier, "ErrorCode": "FindingNotFound", "ErrorMessage": "not found"}
            )
            continue
        if "Workflow" in request:
            finding.data["Workflow"] = dict(request["Workflow"])
        if "Note" in request:
            finding.data["Note"] = {**request["Note"], "UpdatedAt": now}
        processed.append(identifier)
    return {"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}


def install(factory: ClientFactory, regions: Iterable[str], account: str = "123456789012") -> list[dict[str, Any]]:
    """Answer BatchUpdateFindings on ``factory``'s Security Hub clients; returns the requests seen."""
    seen: list[dict[str, Any]] = []
    for region in regions:

        def hook(params: dict[str, Any], _region: str = region, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            request = json.loads(params["body"])
            seen.append(request)
            parsed = batch_update_findings(account, _region, request)
            return AWSResponse("https://moto-gaps", 200, HTTPHeaders(), None), {
                **parsed,
                "ResponseMetadata": {"HTTPStatusCode": 200},
            }

        # This specific event's handlers run before generic "before-call" ones: count calls from the list returned.
        factory.client("securityhub", region).meta.events.register("before-call.securityhub.BatchUpdateFindings", hook)
    return seen
