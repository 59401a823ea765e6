"""The audit request: what to audit, validated from CLI flags or a Lambda event."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# \Z, not $: "$" also matches before a trailing newline, and "us-east-1\n" is not a region.
REGION_RE = re.compile(r"^[a-z]{2,4}(-[a-z]{1,16}){1,3}-\d{1,2}\Z")
CHECK_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")
ACCOUNT_RE = re.compile(r"^\d{12}\Z")
CHECK_ID_MAX = 128
SHOWN_MAX = 60

SinkName = Literal["securityhub", "dynamodb"]


def shown(value: str) -> str:
    """A bad value as an error message quotes it: escaped to one line, cut to SHOWN_MAX characters."""
    text = repr(value)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 4] + "...'"


class AuditRequest(BaseModel):
    """What one audit run covers. Empty regions means every enabled region; empty checks, every check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regions: list[str] = Field(default_factory=list, max_length=64)
    checks: list[str] = Field(default_factory=list, max_length=1000)
    sinks: list[SinkName] = Field(default_factory=list, max_length=2)
    table: str | None = Field(
        default=None, min_length=3, max_length=255, pattern=r"^[a-zA-Z0-9_.-]+$", validate_default=True
    )
    max_workers: int = Field(default=16, ge=1, le=256)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for region in value:
            if not REGION_RE.match(region):
                raise ValueError(f"{shown(region)} is not a region name (e.g. us-east-1)")
        return list(dict.fromkeys(value))

    @field_validator("sinks")
    @classmethod
    def _sinks(cls, value: list[SinkName]) -> list[SinkName]:
        return list(dict.fromkeys(value))

    @field_validator("table")
    @classmethod
    def _table_for_sinks(cls, value: str | None, info: ValidationInfo) -> str | None:
        # The table is the findings' memory: Security Hub's lifecycle (first seen, what to archive) lives there.
        if value is None and info.data.get("sinks"):
            raise ValueError(f"the {' and '.join(info.data['sinks'])} sink needs a findings table (name one)")
        return value

    @field_validator("checks")
    @classmethod
    def _checks(cls, value: list[str]) -> list[str]:
        for check_id in value:
            if len(check_id) > CHECK_ID_MAX or not CHECK_ID_RE.match(check_id):
                raise ValueError(f"{shown(check_id)} is not a check id (kebab-case, at most {CHECK_ID_MAX} characters)")
        return list(dict.fromkeys(value))
