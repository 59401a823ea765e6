"""Lambda function timeouts for joins: which function an integration calls, and how long it may run."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from relaudit.inventory import listings

if TYPE_CHECKING:
    from relaudit.inventory.base import CollectorContext

IAM_ACTIONS = listings.FUNCTION_ACTIONS
_FUNCTION_ARN = re.compile(r"(arn:[\w-]+:lambda:[\w-]+:\d{12}:function:[A-Za-z0-9_-]+)")


def function_arn(uri: str | None) -> str | None:
    """The unqualified function ARN an integration URI invokes, or None.

    Handles a plain function ARN, API Gateway's ``arn:aws:apigateway:<region>:lambda:path/
    2015-03-31/functions/<function ARN>/invocations`` form, and a qualifier (version, alias or
    ``${stageVariables.x}``), which is dropped. A function name built from a stage variable is None.
    """
    match = _FUNCTION_ARN.search(uri or "")
    return match.group(1) if match else None


def timeouts_ms(ctx: CollectorContext) -> dict[str, int]:
    """Unqualified function ARN -> timeout in milliseconds, for every function in ctx's region."""
    return {function["FunctionArn"]: int(function.get("Timeout") or 3) * 1000 for function in listings.functions(ctx)}
