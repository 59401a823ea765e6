"""Run an optional join so that its failure costs only the field it fills, not the whole unit."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from collections.abc import Callable

    from relaudit.inventory.base import CollectorContext

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def guarded(ctx: CollectorContext, field: str, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
    """``call(*args, **kwargs)``, or None when AWS refuses it (AccessDenied, throttling past retries,
    a Region without the API): the failure is recorded on ``ctx`` against ``field``, so the unit is
    reported as a coverage gap while its documents, without ``field``, are still evaluated.

    Checks that read such a field say in ``applies_when`` that a missing field is not applicable,
    so a failed join never turns into a false alarm.
    """
    try:
        return call(*args, **kwargs)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("join failed", extra={"region": ctx.region, "field": field, "error": str(exc)[:200]})
        ctx.enrichment_failed(field, exc)
        return None
