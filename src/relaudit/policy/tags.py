"""Resource tags as the documents carry them, and the suppression a resource's own tags ask for (pure).

Tag shapes in today's documents (the collectors keep the API's response as it is):
- a list of ``{"Key", "Value"}`` under ``TagList`` (RDS DescribeDBInstances, DescribeDBClusters)
  or ``Tags`` (EC2 DescribeVolumes, DescribeVpcs, DescribeVpcEndpoints; Auto Scaling
  DescribeAutoScalingGroups; EFS DescribeFileSystems; Redshift DescribeClusters);
- a map under ``Tags`` (MSK ListClustersV2, API Gateway v2 GetStages) or ``tags`` (API Gateway GetStages).
Types whose calls return no tags (Lambda ListFunctions, SQS, DynamoDB DescribeTable, ELB, SNS,
Step Functions, EventBridge, Neptune's DescribeDBClusters, ECS DescribeServices without
``include=TAGS``, ...) have none here: the file's suppressions by ARN still apply to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relaudit.graph.facts import APPLICATION_TAG, application_name
from relaudit.policy.config import REASON_MAX, TAG_VALUE_RE, parse_date

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

SUPPRESS_TAG = "relaudit:suppress"
REASON_TAG = "relaudit:suppress-reason"
UNTIL_TAG = "relaudit:suppress-until"
STACK_TAG = "aws:cloudformation:stack-name"  # CloudFormation puts it on what a stack creates
ALL = "all"  # a tag value cannot hold "*" or commas: check ids are separated by spaces
_SPACES = re.compile(r"\s+")


def resource_tags(properties: Mapping[str, Any]) -> dict[str, str]:
    """The resource's tags, whichever shape its document holds them in (empty when it has none)."""
    for key in ("Tags", "TagList", "tags"):
        value = properties.get(key)
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return {
                str(tag["Key"]): str(tag.get("Value") or "")
                for tag in value
                if isinstance(tag, dict) and tag.get("Key") is not None
            }
    return {}


def resource_workload(tags: Mapping[str, str], workload_tag: str | None) -> str | None:
    """The name of the workload ``tags`` place a resource in, in the workload graph's order
    (:mod:`relaudit.graph.workloads`): its CloudFormation stack, else its ``awsApplication``'s
    name, else the value of ``workload_tag``; None when none of them is set."""
    if tags.get(STACK_TAG):
        return tags[STACK_TAG]
    if tags.get(APPLICATION_TAG):
        return application_name(tags[APPLICATION_TAG])
    return (tags.get(workload_tag) or None) if workload_tag else None


@dataclass(frozen=True)
class TagSuppression:
    """What a resource's relaudit:suppress* tags ask for, once read.

    Attributes:
        checks: The check ids suppressed, or None for ``all``.
        reason: relaudit:suppress-reason.
        expires: relaudit:suppress-until (the last day it applies), if set.
    """

    checks: frozenset[str] | None
    reason: str
    expires: dt.date | None

    def covers(self, check_id: str) -> bool:
        """Whether this suppression names ``check_id``."""
        return self.checks is None or check_id in self.checks


def read_tag_suppression(
    tags: Mapping[str, str], arn: str, known_checks: frozenset[str]
) -> tuple[TagSuppression | None, list[str]]:
    """The suppression ``tags`` ask for, and notes on what is not honoured.

    A relaudit:suppress without a reason, with a bad value or a bad date is not honoured (a note
    says why); unknown check ids are left out with a note and the others still apply.
    """
    value = tags.get(SUPPRESS_TAG)
    if value is None:
        return None, []
    reason = (tags.get(REASON_TAG) or "").strip()
    if not reason:
        return None, [f"{arn}: tag {SUPPRESS_TAG} is not honoured: it needs a {REASON_TAG} tag saying why"]
    if not TAG_VALUE_RE.match(value):
        return None, [f"{arn}: tag {SUPPRESS_TAG} is not honoured: list check ids separated by spaces, or {ALL}"]
    until = tags.get(UNTIL_TAG)
    expires = None
    if until is not None:
        try:
            expires = parse_date(until.strip())
        except ValueError:
            return None, [f"{arn}: tag {SUPPRESS_TAG} is not honoured: {UNTIL_TAG} {until!r:.40} is not YYYY-MM-DD"]
    words = [word for word in _SPACES.split(value.strip()) if word]
    if not words:
        return None, [f"{arn}: tag {SUPPRESS_TAG} is empty: list check ids separated by spaces, or {ALL}"]
    notes: list[str] = []
    checks: frozenset[str] | None
    if ALL in words:
        checks = None
    else:
        unknown = sorted(set(words) - known_checks)
        if unknown:
            notes.append(f"{arn}: tag {SUPPRESS_TAG} names unknown checks {', '.join(unknown)}; they are ignored")
        checks = frozenset(words) & known_checks
        if not checks:
            return None, notes
    return TagSuppression(checks, reason[:REASON_MAX], expires), notes
