"""Collector for AWS::IAM::Role: the execution roles of the region's Lambda functions, with the
statements of their inline and attached managed policies (for the workload graph's permission edges)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from relaudit.aws import error_code
from relaudit.inventory import listings, shapes
from relaudit.inventory.base import CollectorContext, document, paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::IAM::Role"
IAM_ACTIONS = frozenset(
    {
        *listings.FUNCTION_ACTIONS,
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
    }
)
_STATEMENT_KEYS = ("Effect", "Action", "NotAction", "Resource", "NotResource")
_NAMES = shapes.ListOf(shapes.ANY)  # a policy's Action or Resource, always a list here
DOCUMENT = shapes.fields(
    RoleName=shapes.ANY,  # the last part of the function's Role ARN
    Arn=shapes.Api("lambda", "ListFunctions", "Functions[].Role"),
    InlinePolicyNames=shapes.Api("iam", "ListRolePolicies", "PolicyNames"),
    AttachedPolicyArns=shapes.ListOf(shapes.Api("iam", "ListAttachedRolePolicies", "AttachedPolicies[].PolicyArn")),
    # Parsed from GetRolePolicy's PolicyDocument and GetPolicyVersion's Document (see statements()).
    Statements=shapes.ListOf(
        shapes.fields(
            Effect=shapes.ANY,
            Action=_NAMES,
            NotAction=_NAMES,
            Resource=_NAMES,
            NotResource=_NAMES,
            HasCondition=shapes.ANY,
        )
    ),
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("lambda", "ListFunctions", "Functions[]", ("Role",)),
    shapes.Api("iam", "ListRolePolicies", "PolicyNames[]"),
    shapes.Api("iam", "GetRolePolicy", "", ("PolicyDocument",)),
    shapes.Api("iam", "ListAttachedRolePolicies", "AttachedPolicies[]", ("PolicyArn",)),
    shapes.Api("iam", "GetPolicy", "", ("Policy.DefaultVersionId",)),
    shapes.Api("iam", "GetPolicyVersion", "", ("PolicyVersion.Document",)),
)


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value] if isinstance(value, list) else []


def statements(policy: Any) -> list[dict[str, Any]]:
    """A policy document's statements with Action/Resource (and their Not- forms) as lists.

    Conditions are dropped: the graph reads a permission as a possible edge whatever its
    conditions (the queue-access evaluator reads them where a verdict depends on them).
    """
    if isinstance(policy, str):  # botocore decodes IAM's URL-encoded JSON; a client without its handler does not
        try:
            policy = json.loads(unquote(policy))
        except ValueError:
            return []
    if not isinstance(policy, dict):
        return []
    raw = policy.get("Statement")
    found = []
    for statement in raw if isinstance(raw, list) else [raw]:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            continue
        kept: dict[str, Any] = {"Effect": statement["Effect"]}
        for key in _STATEMENT_KEYS[1:]:
            if key in statement:
                kept[key] = _listed(statement[key])
        kept["HasCondition"] = "Condition" in statement
        found.append(kept)
    return found


def _managed(ctx: CollectorContext, policy_arn: str) -> list[dict[str, Any]]:
    """A managed policy's default version's statements, read once per run per region."""
    iam = ctx.client("iam")

    def load() -> list[dict[str, Any]]:
        try:
            version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
            document_ = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return []
            raise
        return statements(document_)

    return ctx.shared(("iam", "policy", policy_arn), load)


def _role(ctx: CollectorContext, role_arn: str) -> dict[str, Any] | None:
    iam = ctx.client("iam")
    name = role_arn.rsplit("/", 1)[-1]
    try:
        inline = list(paginate(iam, "list_role_policies", "PolicyNames", ctx.page_size, RoleName=name))
        attached = list(paginate(iam, "list_attached_role_policies", "AttachedPolicies", ctx.page_size, RoleName=name))
        found: list[dict[str, Any]] = []
        for policy_name in inline:
            found.extend(statements(iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]))
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None  # deleted since the function was listed
        raise
    for policy in attached:
        found.extend(_managed(ctx, policy["PolicyArn"]))
    return {
        "RoleName": name,
        "Arn": role_arn,
        "InlinePolicyNames": inline,
        "AttachedPolicyArns": [policy["PolicyArn"] for policy in attached],
        "Statements": found,
    }


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield the execution role of every Lambda function in the region, once per role, with
    ``Statements``: every Allow and Deny statement of its inline and attached managed policies.

    IAM is global, but only the roles the region's functions run with are read, so a role
    shared by functions of two regions is read in both (and is one node of the graph).
    Permission boundaries and SCPs are not read.
    """
    roles = sorted({fn["Role"] for fn in listings.functions(ctx) if fn.get("Role")})
    for arn, role in zip(roles, ctx.map(lambda r: _role(ctx, r), roles), strict=True):
        if role is not None:
            yield document(ctx, RESOURCE_TYPE, arn, role["RoleName"], role)
