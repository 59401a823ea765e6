"""The audit request: what to audit, validated from CLI flags or a Lambda event."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from relaudit.policy.config import PolicyConfig

# \Z, not $: "$" also matches before a trailing newline, and "us-east-1\n" is not a region.
REGION_RE = re.compile(r"^[a-z]{2,4}(-[a-z]{1,16}){1,3}-\d{1,2}\Z")
CHECK_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")
ACCOUNT_RE = re.compile(r"^\d{12}\Z")
ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}\Z")  # IAM role names (no path)
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}\Z")  # sts:AssumeRole ExternalId
MAX_ACCOUNTS = 10000
# Fields whose value an error message must never quote (nor a log line show).
SECRET_FIELDS = frozenset({"external_id"})
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
    # Organization scale: the accounts to audit (explicit, or every active account of the
    # organization), narrowed by include/exclude, each through sts:AssumeRole into role_name.
    accounts: list[str] = Field(default_factory=list, max_length=MAX_ACCOUNTS)
    org: bool = False
    include_accounts: list[str] = Field(default_factory=list, max_length=MAX_ACCOUNTS)
    exclude_accounts: list[str] = Field(default_factory=list, max_length=MAX_ACCOUNTS)
    role_name: str | None = Field(default=None, validate_default=True)
    external_id: SecretStr | None = None  # never shown: repr and JSON dumps print '**********'
    # Exceptions and tiers (relaudit.policy): the CLI's --config file; the Lambda's packaged file or SSM parameter.
    config: PolicyConfig = Field(default_factory=PolicyConfig)

    @property
    def multi_account(self) -> bool:
        """True when the request audits other accounts through an assumed role."""
        return self.org or bool(self.accounts)

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

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        return _account_ids(value)

    @field_validator("org")
    @classmethod
    def _org_or_accounts(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("accounts"):
            raise ValueError("give either the organization or a list of accounts, not both")
        return value

    @field_validator("include_accounts", "exclude_accounts")
    @classmethod
    def _narrowing(cls, value: list[str], info: ValidationInfo) -> list[str]:
        value = _account_ids(value)
        if value and not (info.data.get("org") or info.data.get("accounts")):
            raise ValueError("applies only to an organization or a list of accounts")
        return value

    @field_validator("role_name")
    @classmethod
    def _role_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        multi = bool(info.data.get("org") or info.data.get("accounts"))
        if value is None:
            if multi:
                raise ValueError("name the role to assume in each account (needed with the organization or accounts)")
            return None
        if not ROLE_NAME_RE.match(value):
            raise ValueError(f"{shown(value)} is not an IAM role name (1-64 of letters, digits and +=,.@_-)")
        if not multi:
            raise ValueError("applies only to an organization or a list of accounts")
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        if not EXTERNAL_ID_RE.match(value.get_secret_value()):
            raise ValueError("must be 2-1224 of letters, digits and +=,.@:/_- (the value is not shown)")
        if info.data.get("role_name") is None:
            raise ValueError("applies only with a role to assume")
        return value


def _account_ids(value: list[str]) -> list[str]:
    for account in value:
        if not ACCOUNT_RE.match(account):
            raise ValueError(f"{shown(account)} is not an AWS account id (12 digits)")
    return list(dict.fromkeys(value))
