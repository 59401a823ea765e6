"""Turn a Lambda event into an AuditRequest: a schedule's event or an on-demand request."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from relaudit.errors import BadRequestError
from relaudit.models.request import SECRET_FIELDS, AuditRequest, shown

if TYPE_CHECKING:
    from collections.abc import Mapping

SCHEDULE_SOURCES = frozenset({"aws.events", "aws.scheduler", "relaudit.schedule"})
ENV_PREFIX = "RELAUDIT_"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _env_list(env: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in env.get(ENV_PREFIX + name, "").split(",") if item.strip()]


def is_scheduled(event: Mapping[str, Any]) -> bool:
    """True for an EventBridge "Scheduled Event" or the schedule's own marker event."""
    source = event.get("source")
    return event.get("detail-type") == "Scheduled Event" or (isinstance(source, str) and source in SCHEDULE_SOURCES)


def _field_part(part: str | int) -> str:
    """One step of an error's location; a hostile key (huge, control characters) is quoted and cut."""
    text = str(part)
    return text if _PLAIN_NAME.fullmatch(text) else shown(text)


def _validate(data: dict[str, Any], prefix: str) -> AuditRequest:
    try:
        return AuditRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(_field_part(part) for part in first["loc"]) or "event"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        value = first.get("input")
        secret = bool(first["loc"]) and first["loc"][0] in SECRET_FIELDS
        quoted = first["type"] != "missing" and not isinstance(value, dict) and not secret
        shown = f" (got {value!r:.80})" if quoted else ""
        raise BadRequestError(prefix + field, message + shown) from None


def request_from_event(event: Any, env: Mapping[str, str] | None = None) -> AuditRequest:
    """Build the audit request a Lambda event asks for.

    A scheduled event takes its scope from the function's environment (RELAUDIT_REGIONS,
    RELAUDIT_CHECKS, RELAUDIT_SINKS, RELAUDIT_TABLE); any other event is an on-demand request whose
    fields are those of AuditRequest.

    Raises:
        BadRequestError: The event (or, for a schedule, the environment) is invalid; names the field.
    """
    environment = os.environ if env is None else env
    if not isinstance(event, dict):
        raise BadRequestError("event", f"must be a JSON object, got {type(event).__name__}")
    if is_scheduled(event):
        data: dict[str, Any] = {
            "regions": _env_list(environment, "REGIONS"),
            "checks": _env_list(environment, "CHECKS"),
            "sinks": _env_list(environment, "SINKS"),
        }
        if environment.get(ENV_PREFIX + "TABLE"):
            data["table"] = environment[ENV_PREFIX + "TABLE"]
        return _validate(data, "environment ")
    return _validate(event, "")
