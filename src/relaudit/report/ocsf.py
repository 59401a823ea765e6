"""Findings as OCSF Compliance Finding events (class 2003, category Findings), OCSF 1.6.0 with the
cloud profile: the version AWS Security Hub reads (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-ocsf.html).

One event per PASSED or FAILED finding. NOT_APPLICABLE is no judgement, and an UNKNOWN finding
must never overwrite a stored verdict, so neither becomes an event. ``finding_info.uid`` is the
finding's id (the JSON ``id``, the ASFF ``Id``) and ``resources[0].uid`` its resource's ARN.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from relaudit import __version__
from relaudit.report.grouping import FAILED, PASSED, status_of, suppression_note

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import TextIO

    from relaudit.models.finding import AuditResult, Finding

OCSF_VERSION = "1.6.0"
PROFILES = ("cloud",)
CLASS_UID, CLASS_NAME = 2003, "Compliance Finding"
CATEGORY_UID, CATEGORY_NAME = 2, "Findings"
ACTIVITY_CREATE = 1
STANDARD = "AWS Well-Architected Framework, Reliability Pillar"
AWS_ACCOUNT_TYPE_ID = 10
EXPORTED = frozenset({PASSED, FAILED})
SEVERITY_ID = {"INFORMATIONAL": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}
# Finding status: a failure is New; a pass is Resolved, as Security Hub resolves passed controls.
FINDING_STATUS = {FAILED: (1, "New"), PASSED: (4, "Resolved")}
SUPPRESSED = (3, "Suppressed")
COMPLIANCE_STATUS = {PASSED: (1, "Pass"), FAILED: (3, "Fail")}


def epoch_ms(moment: str) -> int:
    """An ISO 8601 time as OCSF's timestamp_t (milliseconds since the epoch, UTC when naive)."""
    parsed = dt.datetime.fromisoformat(moment)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def _partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" else "aws"


def to_event(finding: Finding, time_ms: int, run_id: str | None = None) -> dict[str, Any]:
    """One PASSED or FAILED finding as an OCSF Compliance Finding event (plain JSON-ready dict).

    Raises:
        ValueError: The finding is neither PASSED nor FAILED.
    """
    status = status_of(finding)
    if status not in EXPORTED:
        raise ValueError(f"finding {finding.id} is {status}: only PASSED and FAILED findings become OCSF events")
    severity = str(finding.severity.value)
    # A suppressed finding (relaudit.policy) keeps its compliance status; its finding status is Suppressed.
    status_id, status_name = SUPPRESSED if finding.suppression is not None else FINDING_STATUS[status]
    compliance_id, compliance_name = COMPLIANCE_STATUS[status]
    metadata: dict[str, Any] = {
        "version": OCSF_VERSION,
        "profiles": list(PROFILES),
        "product": {"name": "relaudit", "vendor_name": "relaudit", "version": __version__},
    }
    if run_id:
        metadata["correlation_uid"] = run_id
    event: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": CATEGORY_NAME,
        "class_uid": CLASS_UID,
        "class_name": CLASS_NAME,
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": f"{CLASS_NAME}: Create",
        "severity_id": SEVERITY_ID[severity],
        "severity": severity.capitalize(),
        "status_id": status_id,
        "status": status_name,
        "time": time_ms,
        "message": finding.reason,
        "metadata": metadata,
        "cloud": {
            "provider": "AWS",
            "region": finding.region,
            "account": {"uid": finding.account_id, "type_id": AWS_ACCOUNT_TYPE_ID, "type": "AWS Account"},
        },
        "finding_info": {
            "uid": finding.id,
            "title": finding.title,
            "desc": finding.reason,
            "types": [finding.check_id],
        },
        "compliance": {
            "control": finding.check_id,
            "requirements": [finding.best_practice],
            "standards": [STANDARD],
            "status_id": compliance_id,
            "status": compliance_name,
            "status_detail": finding.reason,
        },
        "resources": [
            {
                "uid": finding.resource_arn,
                "name": finding.resource_name,
                "type": finding.resource_type,
                "region": finding.region,
                "cloud_partition": _partition(finding.resource_arn),
            }
        ],
        "remediation": {"desc": finding.remediation_text, "references": [finding.remediation_url]},
    }
    note = suppression_note(finding)
    if note is not None:  # why it is suppressed, and until when
        event["status_detail"] = note
    references = finding.references.model_dump(exclude_none=True)
    if references:  # equivalent controls in other tools have no OCSF attribute of their own
        event["unmapped"] = {"references": references}
    return event


def events(findings: Iterable[Finding], time_ms: int, run_id: str | None = None) -> Iterable[dict[str, Any]]:
    """The OCSF events of the PASSED and FAILED findings, in the findings' order."""
    return (to_event(f, time_ms, run_id) for f in findings if status_of(f) in EXPORTED)


def write_events(result: AuditResult, out: TextIO) -> int:
    """Write the result's OCSF events to ``out`` as one JSON array, event by event.

    Returns:
        How many events were written.
    """
    time_ms = epoch_ms(result.summary.started_at)
    count = 0
    out.write("[")
    for event in events(result.findings, time_ms, result.summary.run_id):
        out.write(("," if count else "") + "\n  " + json.dumps(event, ensure_ascii=False))
        count += 1
    out.write("\n]" if count else "]")
    return count
