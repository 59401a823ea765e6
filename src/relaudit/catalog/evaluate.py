"""Evaluate one compiled check against one resource document (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jmespath.exceptions import JMESPathError

from relaudit.catalog.functions import OPTIONS
from relaudit.ids import finding_id
from relaudit.models.check import Status
from relaudit.models.finding import Finding

if TYPE_CHECKING:
    from relaudit.catalog.loader import CompiledCheck
    from relaudit.models.finding import Suppression
    from relaudit.models.resource import ResourceDocument

PARAMS_KEY = "_params"
# What an expression raises on data it cannot handle: JMESPath's own type errors, and (jmespath
# 1.1 and later) TypeError from an ordering comparison of a number with a string.
EVALUATION_ERRORS: tuple[type[Exception], ...] = (JMESPathError, TypeError)


def status_of(check: CompiledCheck, properties: dict[str, Any]) -> Status:
    """Return the status of ``check`` on a resource's properties.

    A check applies when it has no ``applies_when`` or that expression is exactly true, and
    passes only when ``passes_when`` is exactly true: a typo'd key yields null, which fails.
    """
    document = properties
    if check.definition.parameters:
        document = {**properties, PARAMS_KEY: check.definition.parameters}
    if check.applies is not None and check.applies.search(document, options=OPTIONS) is not True:
        return Status.NOT_APPLICABLE
    if check.passes.search(document, options=OPTIONS) is True:
        return Status.PASSED
    return Status.FAILED


_ALL_FIELDS: set[str] = set(Finding.model_fields)  # never changed: findings are frozen
_REASONS = {
    Status.PASSED: "{name} ({type}) meets the check: {title}.",
    Status.FAILED: "{name} ({type}) does not meet the check: {title}.",
    Status.NOT_APPLICABLE: "{name} ({type}) is out of this check's scope: {title}.",
}


def evaluate(check: CompiledCheck, resource: ResourceDocument) -> Finding:
    """Evaluate ``check`` on ``resource`` and return the finding."""
    status = status_of(check, resource.properties)
    return build_finding(check, status, resource.account_id, resource.region, resource.arn, resource.name)


def build_finding(
    check: CompiledCheck,
    status: Status,
    account_id: str,
    region: str,
    arn: str,
    name: str,
    *,
    suppression: Suppression | None = None,
    tier: str | None = None,
) -> Finding:
    """The finding of ``check`` with ``status`` on one resource (its id and reason derive from these);
    ``suppression`` and ``tier`` are what the policy (relaudit.policy) marked it with."""
    definition = check.definition
    reason = _REASONS[status].format(name=name, type=definition.resource_type, title=definition.title.rstrip("."))
    # Built without validation: every value comes from a validated check or document. One shared
    # fields-set for all findings (pydantic keeps one per instance otherwise).
    return Finding.model_construct(
        _fields_set=_ALL_FIELDS,
        id=finding_id(account_id, region, definition.id, arn),
        check_id=definition.id,
        title=definition.title,
        status=status,
        severity=definition.severity,
        resource_arn=arn,
        resource_type=definition.resource_type,
        resource_name=name,
        region=region,
        account_id=account_id,
        best_practice=definition.best_practice,
        reason=reason,
        references=definition.references,
        remediation_text=definition.remediation.text,
        remediation_url=definition.remediation.url,
        suppression=suppression,
        tier=tier,
    )
