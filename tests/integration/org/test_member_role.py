"""member-role.yaml: the role each member account deploys (StackSets-ready) holds exactly what the code calls there.

Exactly relaudit.permissions.member_role_actions() (every collector's and the planner's read
actions plus securityhub:BatchImportFindings), both ways; trusted by the auditor account only, and
only with the ExternalId.
"""

from __future__ import annotations

from typing import Any

import pytest

from relaudit.permissions import audit_read_actions, member_role_actions
from relaudit.sinks import securityhub
from tests.conftest import ROOT
from tests.integration.template_support import Resolver

MEMBER_ROLE = ROOT / "member-role.yaml"
AUDITOR = "111122223333"
MEMBER = "123456789012"  # the Resolver's AWS::AccountId: the account the stack is deployed in


def _template() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    parsed: dict[str, Any] = yaml_parse(MEMBER_ROLE.read_text())
    return parsed


def _role() -> dict[str, Any]:
    template = _template()
    resolver = Resolver(template, {"AuditorAccountId": AUDITOR, "ExternalId": "ext-7f3c9a1e"})
    properties: dict[str, Any] = resolver.resolve(template["Resources"]["AuditRole"]["Properties"])
    return properties


def _statements() -> dict[str, dict[str, Any]]:
    [policy] = _role()["Policies"]
    return {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}


def test_cfn_lint_is_clean_and_it_needs_no_transform() -> None:
    from cfnlint.api import ManualArgs, lint

    text = MEMBER_ROLE.read_text()
    assert [str(m) for m in lint(text, config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))] == []
    assert "Transform" not in _template(), "StackSets deploy plain CloudFormation"
    assert set(_template()["Resources"]) == {"AuditRole"}


def test_the_role_holds_exactly_the_code_s_actions_both_ways() -> None:
    statements = _statements()
    granted = set().union(*({*s["Action"]} for s in statements.values()))
    declared = member_role_actions()
    missing, extra = sorted(declared - granted), sorted(granted - declared)
    if missing or extra:
        lines = "\n".join(f"                  - {a}" for a in sorted(audit_read_actions()))
        pytest.fail(
            f"member-role.yaml does not match relaudit.permissions.member_role_actions():\n"
            f"  missing (the code calls these; add them): {missing}\n"
            f"  extra (no code calls these; remove them): {extra}\n"
            f"The AuditRead statement's Action list should read:\n{lines}",
            pytrace=False,
        )
    assert set(statements["AuditRead"]["Action"]) == audit_read_actions()
    assert statements["AuditRead"]["Resource"] == "*"
    assert set(statements["SecurityHubFindings"]["Action"]) == securityhub.IAM_ACTIONS
    own_product = f"arn:aws:securityhub:*:{MEMBER}:product/{MEMBER}/default"
    assert statements["SecurityHubFindings"]["Resource"] == own_product, "its own findings only"
    assert not [a for a in granted if "*" in a], "no wildcard actions"


def test_only_the_auditor_account_with_the_external_id_may_assume_it() -> None:
    role = _role()
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{AUDITOR}:root"}
    assert trust["Condition"]["StringEquals"] == {"sts:ExternalId": "ext-7f3c9a1e"}
    assert trust["Condition"]["StringLike"] == {"aws:PrincipalArn": "*"}
    assert role["RoleName"] == "RelauditAudit", "the auditor stack's MemberRoleName default"
    assert role["MaxSessionDuration"] == 3600


def test_parameters_match_the_auditor_stack() -> None:
    from tests.integration.template_support import sam_template

    member = _template()["Parameters"]
    auditor = sam_template()["Parameters"]
    assert member["RoleName"]["Default"] == auditor["MemberRoleName"]["Default"]
    assert member["RoleName"]["AllowedPattern"] == auditor["MemberRoleName"]["AllowedPattern"]
    assert member["ExternalId"]["NoEcho"] is True
    assert "Default" not in member["ExternalId"], "a member role always requires an ExternalId"
