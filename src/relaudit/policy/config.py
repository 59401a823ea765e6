"""The policy file (``relaudit.yaml``): its model, and reading it with errors that name the field."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from relaudit.errors import BadRequestError
from relaudit.models.check import Severity

if TYPE_CHECKING:
    from pathlib import Path

TIER_TAG = "relaudit:tier"
# What AWS allows in a tag value (letters, digits, spaces and _ . : / = + - @), so a tier named in
# the file can be written on a resource too.
TAG_VALUE_RE = re.compile(r"^[\w .:/=+\-@]*\Z")
TAG_KEY_RE = re.compile(r"^[\w .:/=+\-@]{1,128}\Z")
CHECK_REF_RE = re.compile(r"^([a-z0-9]+(-[a-z0-9]+)*|\*)\Z")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
# Security Hub's Note.Text holds 512 characters; a tag value 256. One limit for both sources.
REASON_MAX = 256
WORKLOAD_MAX = 256  # a tag value's limit (stack names are at most 128)
TIER_NAME_RE = re.compile(r"^[A-Za-z0-9_.:/=+\-@]{1,64}\Z")


class ConfigError(BadRequestError):
    """The policy file is invalid: ``source`` names the file (``--config relaudit.yaml``, an SSM
    parameter), ``path`` the bad value in it (``suppressions[0].reason``)."""

    def __init__(self, source: str, path: str, message: str) -> None:
        super().__init__(source, f"{path}: {message}" if path else message)
        self.source = source
        self.path = path


def parse_date(value: Any) -> dt.date:
    """A YYYY-MM-DD date (YAML may already have made it a date); anything else is refused."""
    if isinstance(value, dt.datetime):
        raise ValueError("give a date (YYYY-MM-DD), not a time")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return dt.date.fromisoformat(value)


def _check_refs(value: list[str]) -> list[str]:
    for ref in value:
        if not CHECK_REF_RE.match(ref):
            raise ValueError(f"{ref!r:.60} is not a check id (kebab-case) or '*'")
    return list(dict.fromkeys(value))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigSuppression(_Strict):
    """An exception written in the file: these checks on these resources, for this reason, until then."""

    checks: list[str] = Field(min_length=1, description="Check ids, or '*' for every check")
    resources: list[str] = Field(default_factory=list, description="ARN globs (fnmatch: * ? [...])")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags the resource must carry, all of them")
    reason: str = Field(min_length=1, max_length=REASON_MAX, description="Why; shown in Security Hub's note")
    expires: dt.date | None = Field(default=None, description="Last day it applies (YYYY-MM-DD, UTC)")

    @field_validator("checks")
    @classmethod
    def _checks(cls, value: list[str]) -> list[str]:
        return _check_refs(value)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must say why (not blank)")
        return value.strip()

    @field_validator("expires", mode="before")
    @classmethod
    def _expires(cls, value: Any) -> dt.date | None:
        return None if value is None else parse_date(value)

    @model_validator(mode="after")
    def _selects_resources(self) -> ConfigSuppression:
        if not self.resources and not self.tags:
            raise ValueError("name the resources (ARN globs) or the tags it applies to; '*' suppresses everywhere")
        return self


class Tier(_Strict):
    """What a tier of resources is held to: which checks apply, at what severity, with which thresholds."""

    resources: list[str] = Field(default_factory=list, description="ARN globs placed in this tier (besides the tag)")
    workloads: list[str] = Field(
        default_factory=list, description="Workloads placed in this tier: stack, awsApplication or workload_tag names"
    )
    checks: list[str] = Field(default_factory=lambda: ["*"], description="Checks that apply ('*': all)")
    skip_checks: list[str] = Field(default_factory=list, description="Checks that do not apply to this tier")
    severity: dict[str, Severity] = Field(default_factory=dict, description="Check id -> severity in this tier")
    parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Check id -> thresholds (the check's _params) in this tier"
    )

    @field_validator("checks", "skip_checks")
    @classmethod
    def _checks(cls, value: list[str]) -> list[str]:
        return _check_refs(value)

    @field_validator("workloads")
    @classmethod
    def _workloads(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.strip() or len(name) > WORKLOAD_MAX or not TAG_VALUE_RE.match(name):
                raise ValueError(
                    f"{name!r:.60} is not a workload name (1-{WORKLOAD_MAX} of letters, digits, spaces and _.:/=+-@)"
                )
        return list(dict.fromkeys(value))

    @field_validator("severity", "parameters")
    @classmethod
    def _keys_are_check_ids(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if key == "*" or not CHECK_REF_RE.match(key):
                raise ValueError(f"{key!r:.60} is not a check id (kebab-case)")
        return value


class PolicyConfig(_Strict):
    """The whole file. Empty means no exception and one policy for every resource."""

    suppressions: list[ConfigSuppression] = Field(default_factory=list, max_length=10000)
    tier_tag: str = Field(default=TIER_TAG, description="The tag whose value names a resource's tier")
    workload_tag: str | None = Field(
        default=None, description="A tag key whose value names a resource's workload (relaudit graph --workload-tag)"
    )
    default_tier: str | None = Field(default=None, description="The tier of a resource no tier selects")
    policies: dict[str, Tier] = Field(default_factory=dict, description="Tier name -> its policy")

    @field_validator("tier_tag")
    @classmethod
    def _tier_tag(cls, value: str) -> str:
        if not TAG_KEY_RE.match(value) or value.lower().startswith("aws:"):
            raise ValueError("must be a tag key (1-128 of letters, digits, spaces and _.:/=+-@, not aws:)")
        return value

    @field_validator("workload_tag")
    @classmethod
    def _workload_tag(cls, value: str | None) -> str | None:
        if value is not None and not TAG_KEY_RE.match(value):
            raise ValueError("must be a tag key (1-128 of letters, digits, spaces and _.:/=+-@)")
        return value

    @field_validator("policies")
    @classmethod
    def _tier_names(cls, value: dict[str, Tier]) -> dict[str, Tier]:
        for name in value:
            if not TIER_NAME_RE.match(name):
                raise ValueError(f"{name!r:.60} is not a tier name (1-64 of letters, digits and _.:/=+-@)")
        placed: dict[str, str] = {}
        for name, tier in value.items():
            for index, workload in enumerate(tier.workloads):
                where = placed.setdefault(workload, f"{name}.workloads[{index}]")
                if not where.startswith(f"{name}."):
                    raise ValueError(f"workload {workload!r:.60} is in two tiers ({where}, {name}.workloads[{index}])")
        return value

    @model_validator(mode="after")
    def _default_is_a_tier(self) -> PolicyConfig:
        if self.default_tier is not None and self.default_tier not in self.policies:
            raise ValueError(f"default_tier {self.default_tier!r:.60} is not one of the policies")
        return self


class _PolicyLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text for the model to check (PyYAML raises on 2027-13-01)."""


_PolicyLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def parse_config(text: str, source: str) -> PolicyConfig:
    """Validate a policy file's text (YAML or JSON).

    Raises:
        ConfigError: Not YAML, not a mapping, or a field is invalid (the first error, its path named).
    """
    try:
        data = yaml.load(text, Loader=_PolicyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(source, "", f"not valid YAML{where}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, "", f"must be a mapping of settings, got {type(data).__name__}")
    try:
        return PolicyConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        elif first["type"] == "missing":
            message = "required"
        raise ConfigError(source, _location(tuple(first["loc"])), message) from None


def load_config(path: Path, source: str | None = None) -> PolicyConfig:
    """Read and validate the policy file at ``path`` (errors name ``source``, default the path).

    Raises:
        ConfigError: The file cannot be read or is invalid.
    """
    where = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(where, "", f"cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(where, "", "is not UTF-8 text") from None
    return parse_config(text, where)
