"""Which REST stage throttle values a stage set itself, and which API Gateway wrote in from the account.

When a stage gets any ``*/*`` (or per-method) setting, logging or metrics alone, API Gateway
stores a complete method setting and fills its throttle with the account's throttle (10,000 rps,
burst 5,000 by default): a value that looks configured but limits nothing beyond the account.
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relaudit.inventory.base import CollectorContext

IAM_ACTIONS = frozenset({"apigateway:GET"})
# AWS's default account throttle: what a stage created before a quota increase still carries.
AWS_DEFAULT_RATE = 10_000.0
AWS_DEFAULT_BURST = 5_000


def account_throttle(ctx: CollectorContext) -> dict[str, Any]:
    """GetAccount's ``throttleSettings`` (``rateLimit``, ``burstLimit``), read once per region."""
    apigw = ctx.client("apigateway")
    return ctx.shared(("apigateway", "account"), lambda: dict(apigw.get_account().get("throttleSettings") or {}))


def own_rate(setting: dict[str, Any] | None, account: dict[str, Any]) -> float | None:
    """The rate limit a REST method setting imposes itself; None when unset (-1, 0), inherited
    (the account's throttle or AWS's default pair), or at or above the account's rate limit."""
    rate = (setting or {}).get("throttlingRateLimit")
    if not isinstance(rate, int | float) or rate <= 0:
        return None
    burst = (setting or {}).get("throttlingBurstLimit")
    account_rate = account.get("rateLimit")
    if (rate, burst) in ((account_rate, account.get("burstLimit")), (AWS_DEFAULT_RATE, AWS_DEFAULT_BURST)):
        return None
    if isinstance(account_rate, int | float) and account_rate > 0 and rate >= account_rate:
        return None
    return float(rate)
