"""The IAM actions relaudit needs, derived from the code that calls them (template.yaml must match)."""

from __future__ import annotations

from relaudit import org, plan
from relaudit.inventory import iam_actions
from relaudit.sinks import dynamodb, securityhub, workflow


def audit_read_actions() -> frozenset[str]:
    """Read actions against the audited account: every collector's plus the planner's."""
    return iam_actions() | plan.IAM_ACTIONS


def sink_write_actions() -> frozenset[str]:
    """Exactly the actions the sinks call at run time: Security Hub import and workflow, and the table's items.

    ``securityhub:BatchImportFindings`` is called in each audited account (its own findings), and
    ``securityhub:BatchUpdateFindings`` sets the Workflow of the suppressed ones;
    the dynamodb actions apply to the findings table and its indexes (Query reads the previous
    state and runs on the GSIs). ``--create-table`` needs ``dynamodb.TABLE_ADMIN_ACTIONS`` too (CLI only).
    """
    return securityhub.IAM_ACTIONS | workflow.IAM_ACTIONS | dynamodb.IAM_ACTIONS


def member_role_actions() -> frozenset[str]:
    """What the role assumed in each member account must allow (member-role.yaml): the audit's
    reads, and ``securityhub:BatchImportFindings`` / ``BatchUpdateFindings`` of the member's own findings."""
    return audit_read_actions() | securityhub.IAM_ACTIONS | workflow.IAM_ACTIONS


def org_auditor_actions() -> frozenset[str]:
    """What the organization mode calls with the auditor account's own credentials, besides the
    findings table: list the organization's accounts and assume the member role in each."""
    return org.AUDITOR_ACTIONS
