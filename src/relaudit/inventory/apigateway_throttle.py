"""Which REST stage throttle values a stage set itself, which API Gateway wrote in from the account,
and how many requests a method or route admits at once.

When a stage gets any ``*/*`` (or per-method) setting, logging or metrics alone, API Gateway
stores a complete method setting and fills its throttle with the account's throttle (10,000 rps,
burst 5,000 by default): a value that looks configured but limits nothing beyond the account.
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from relaudit.inventory.base import CollectorContext

IAM_ACTIONS = frozenset({"apigateway:GET"})
# AWS's default account throttle: what a stage created before a quota increase still carries.
AWS_DEFAULT_RATE = 10_000.0
AWS_DEFAULT_BURST = 5_000


def account_throttle(ctx: CollectorContext) -> dict[str, Any]:
    """GetAccount's ``throttleSettings`` (``rateLimit``, ``burstLimit``), read once per region."""
    apigw = ctx.client("apigateway")
    return ctx.shared(("apigateway", "account"), lambda: dict(apigw.get_account().get("throttleSettings") or {}))


def _inherited(setting: dict[str, Any], account: dict[str, Any]) -> bool:
    """Whether a method setting's throttle pair is one API Gateway wrote in (the account's, or
    AWS's default pair a stage created before a quota increase still carries)."""
    pair = (setting.get("throttlingRateLimit"), setting.get("throttlingBurstLimit"))
    return pair in ((account.get("rateLimit"), account.get("burstLimit")), (AWS_DEFAULT_RATE, AWS_DEFAULT_BURST))


def own_rate(setting: dict[str, Any] | None, account: dict[str, Any]) -> float | None:
    """The rate limit a REST method setting imposes itself; None when unset (-1, 0), inherited
    (the account's throttle or AWS's default pair), or at or above the account's rate limit."""
    rate = (setting or {}).get("throttlingRateLimit")
    if not isinstance(rate, int | float) or rate <= 0:
        return None
    if _inherited(setting or {}, account):
        return None
    account_rate = account.get("rateLimit")
    if isinstance(account_rate, int | float) and account_rate > 0 and rate >= account_rate:
        return None
    return float(rate)


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def own_burst(setting: dict[str, Any] | None, account: dict[str, Any]) -> int | None:
    """The burst limit a REST method setting imposes itself; None when unset (-1, 0) or inherited."""
    burst = _positive((setting or {}).get("throttlingBurstLimit"))
    return None if burst is None or _inherited(setting or {}, account) else burst


def admitted_burst(bursts: Iterable[Any], account: dict[str, Any]) -> int | None:
    """The most requests API Gateway lets through at once to one method or route: the first burst
    limit of ``bursts`` that is set (a positive integer: the method's or route's own, then the
    stage default's), capped by the account's burst limit; the account's when none is set; None
    when neither is known.

    API Gateway documents the burst limit as the maximum number of concurrent request submissions
    it fulfils at any moment before answering 429; every API of the account and Region shares the
    account's (5,000 by default). Usage plans throttle each API key alone, so they do not bound
    what a stage admits in total and are not read here.
    """
    account_burst = _positive(account.get("burstLimit"))
    for burst in bursts:
        own = _positive(burst)
        if own is not None:
            return min(own, account_burst) if account_burst is not None else own
    return account_burst
