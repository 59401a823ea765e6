"""The IAM actions relaudit needs, derived from the code that calls them (template.yaml must match)."""

from __future__ import annotations

from relaudit import plan
from relaudit.inventory import iam_actions


def audit_read_actions() -> frozenset[str]:
    """Read actions against the audited account: every collector's plus the planner's."""
    return iam_actions() | plan.IAM_ACTIONS
