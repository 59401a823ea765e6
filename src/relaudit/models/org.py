"""The organization fan-out's payloads: what each Step Functions step receives and returns."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from relaudit.models.coverage import CoverageGap
from relaudit.models.request import ACCOUNT_RE, CHECK_ID_RE, REGION_RE, SinkName, shown

RUN_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}\Z")
# Step Functions passes at most 256 KiB between states; the list step's output carries every item.
MAX_STATE_BYTES = 256 * 1024
# The region of an account item: the whole account, all its regions at once (a run with a graph
# check: the workload graph spans regions); its record's key is ITEM#<account>#*.
ACCOUNT_ITEM = "*"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _account(value: str) -> str:
    if not ACCOUNT_RE.match(value):
        raise ValueError(f"{shown(value)} is not an AWS account id (12 digits)")
    return value


def _region(value: str) -> str:
    if not REGION_RE.match(value):
        raise ValueError(f"{shown(value)} is not a region name (e.g. us-east-1)")
    return value


def _item_region(value: str) -> str:
    return value if value == ACCOUNT_ITEM else _region(value)


class _ItemScope(_Payload):
    """Which (account, region) an item audits: one region, or (region ``*``, an account item) all the
    account's ``regions``, as a run with a graph check has it (the workload graph spans regions)."""

    account: str
    region: str
    regions: list[str] = Field(default_factory=list, max_length=64)  # the account item's; [] otherwise

    _valid_account = field_validator("account")(_account)
    _valid_region = field_validator("region")(_item_region)

    @field_validator("regions")
    @classmethod
    def _regions_of_the_account_item(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for name in value:
            _region(name)
        region = info.data.get("region")  # absent when it failed its own validation
        if region is not None and (region == ACCOUNT_ITEM) != bool(value):
            raise ValueError(f"listed for, and only for, an item of region '{ACCOUNT_ITEM}' (the whole account)")
        return value

    @property
    def is_account_item(self) -> bool:
        """Whether this item is the whole account (all its regions)."""
        return self.region == ACCOUNT_ITEM


class OrgTarget(_ItemScope):
    """One Map item: audit one account in one region, or in all its regions (region ``*``)."""


class _RunScope(_Payload):
    """What every step of one org run shares: its id and the request's scope."""

    run_id: str
    checks: list[str] = Field(default_factory=list, max_length=1000)
    sinks: list[SinkName] = Field(default_factory=list, max_length=2)

    @field_validator("run_id")
    @classmethod
    def _run_id(cls, value: str) -> str:
        if not RUN_ID_RE.match(value):
            raise ValueError(f"{shown(value)} is not a run id (1-128 of letters, digits and ._:-)")
        return value

    @field_validator("checks")
    @classmethod
    def _checks(cls, value: list[str]) -> list[str]:
        for check_id in value:
            if not CHECK_ID_RE.match(check_id):
                raise ValueError(f"{shown(check_id)} is not a check id")
        return value


class ListStep(_Payload):
    """The list step's input: the execution (for a stable run id) and the execution's own input."""

    step: Literal["list"] = "list"
    execution_id: str = Field(min_length=1, max_length=2048)
    execution_start: str = Field(min_length=1, max_length=64)
    input: dict[str, Any] = Field(default_factory=dict)


class OrgPlan(_RunScope):
    """The list step's output, the state the Map iterates over (``items``) and the last step reads.

    ``gaps`` are accounts that could not be planned (their role could not be assumed, or their
    regions listed): they have no items. ``map_error`` is null here; the Map's Catch fills it.
    """

    started_at: str
    accounts: list[str]
    regions: list[str]
    items: list[OrgTarget]
    gaps: list[CoverageGap] = Field(default_factory=list)
    max_concurrency: int = Field(ge=0, le=10000)
    tolerated_failure_percentage: float = Field(ge=0, le=100)
    expires_at: int
    map_error: dict[str, Any] | None = None


class ItemStep(_ItemScope, _RunScope):
    """One Map item as the state machine's ItemSelector sends it to the item step."""

    step: Literal["item"] = "item"
    expires_at: int

    def target(self) -> OrgTarget:
        """The item this step audits (validated)."""
        return OrgTarget(account=self.account, region=self.region, regions=self.regions)


class FinalizeStep(_RunScope):
    """The last step's input: the run's plan (its items) and the Map's error, if it failed."""

    step: Literal["finalize"] = "finalize"
    started_at: str
    accounts: list[str]
    regions: list[str]
    items: list[OrgTarget]
    gaps: list[CoverageGap] = Field(default_factory=list)
    map_error: dict[str, Any] | None = None
