"""Evaluate one compiled check against one resource document (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from jmespath.exceptions import JMESPathError

from relaudit.catalog.functions import OPTIONS
from relaudit.ids import finding_id
from relaudit.models.check import Status
from relaudit.models.finding import BlastRadius, Finding
from relaudit.models.resource import UNAVAILABLE

if TYPE_CHECKING:
    from collections.abc import Mapping

    from relaudit.catalog.loader import CompiledCheck
    from relaudit.models.finding import Suppression
    from relaudit.models.resource import ResourceDocument

PARAMS_KEY = "_params"


class GraphDetail(NamedTuple):
    """What a graph finding adds: its path (ARNs in order) and a sentence on what the graph showed;
    or, for a redundancy check's finding, the blast radius the graph showed."""

    path: tuple[str, ...]
    seen: str
    radius: BlastRadius | None = None


# What an expression raises on data it cannot handle: JMESPath's own type errors, and (jmespath
# 1.1 and later) TypeError from an ordering comparison of a number with a string.
EVALUATION_ERRORS: tuple[type[Exception], ...] = (JMESPathError, TypeError)


NOTHING_UNAVAILABLE: Mapping[str, str] = {}


def missing_inputs(fields: frozenset[str], unavailable: Mapping[str, str]) -> str | None:
    """What a check reading ``fields`` lacks, as a clause naming each missing input and why; None if nothing.

    ``fields`` is :meth:`CompiledCheck.fields` (every name the expressions mention, nested ones
    too): over-approximating makes a check UNKNOWN more often, never judged on a missing input.
    """
    missing = sorted(fields.intersection(unavailable))
    if not missing:
        return None
    return "; ".join(f"{name} could not be read ({unavailable[name]})" for name in missing)


def judge(
    check: CompiledCheck,
    properties: dict[str, Any],
    unavailable: Mapping[str, str] = NOTHING_UNAVAILABLE,
    fields: frozenset[str] | None = None,
) -> tuple[Status, str | None]:
    """The status of ``check`` on a resource, and what it lacked when that is UNKNOWN.

    Args:
        check: The check.
        properties: The resource's properties; their ``_unavailable`` names inputs missing for
            this resource alone.
        unavailable: Inputs missing for every resource of the scope (a failed join), field -> why.
        fields: ``check.fields()``, when the caller has it already.

    Raises:
        JMESPathError, TypeError: The expression cannot handle the document (see EVALUATION_ERRORS).
    """
    own = properties.get(UNAVAILABLE)
    if isinstance(own, dict) and own:
        unavailable = {**unavailable, **{str(k): str(v) for k, v in own.items()}}
    if unavailable:
        detail = missing_inputs(check.fields() if fields is None else fields, unavailable)
        if detail is not None:
            return Status.UNKNOWN, detail
    return status_of(check, properties), None


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
    Status.UNKNOWN: "{name} ({type}) could not be judged: {title}: {detail}.",
}


def evaluate(
    check: CompiledCheck, resource: ResourceDocument, unavailable: Mapping[str, str] = NOTHING_UNAVAILABLE
) -> Finding:
    """Evaluate ``check`` on ``resource`` (see :func:`judge`) and return the finding."""
    status, detail = judge(check, resource.properties, unavailable)
    return build_finding(check, status, resource.account_id, resource.region, resource.arn, resource.name, detail)


def build_finding(
    check: CompiledCheck,
    status: Status,
    account_id: str,
    region: str,
    arn: str,
    name: str,
    detail: str | GraphDetail | None = None,
    *,
    suppression: Suppression | None = None,
    tier: str | None = None,
) -> Finding:
    """The finding of ``check`` with ``status`` on one resource (its id and reason derive from these).

    ``detail`` is what an UNKNOWN finding lacked (text, see :func:`missing_inputs`), or a graph
    finding's path and what the graph showed (added to the reason). ``suppression`` and ``tier`` are
    what the policy (relaudit.policy) marked it with.
    """
    definition = check.definition
    graph = detail if isinstance(detail, GraphDetail) else None
    lacked = detail if isinstance(detail, str) else None
    reason = _REASONS[status].format(
        name=name, type=definition.resource_type, title=definition.title.rstrip("."), detail=lacked or "an input"
    )
    if graph is not None and graph.seen:
        reason = f"{reason} {graph.seen}"
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
        path=list(graph.path) if graph is not None and graph.path else None,
        suppression=suppression,
        tier=tier,
        blast_radius=graph.radius if graph is not None else None,
    )
