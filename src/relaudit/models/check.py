"""The check definition model: what a checks/<id>.yaml file may contain."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

CHECK_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
BEST_PRACTICE_RE = r"^REL\d{2}-BP\d{2}$"
RESOURCE_TYPE_RE = r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$"


class Severity(StrEnum):
    """Severity labels, as Security Hub names them."""

    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """Order for comparisons such as --fail-on (INFORMATIONAL lowest)."""
        return list(Severity).index(self)


class Status(StrEnum):
    """The result of one check on one resource.

    UNKNOWN: the check concerns the resource but an input it reads could not be collected (a
    denied or failed join); it is never a verdict, so it never replaces a stored one. Check examples
    cannot expect it: it comes from collection, not from an expression.
    """

    PASSED = "PASSED"
    FAILED = "FAILED"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    UNKNOWN = "UNKNOWN"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class References(_Strict):
    """Where the rule comes from and equivalent controls in other tools; every field is optional
    (the built-in checks all cite ``docs``)."""

    docs: str | None = Field(
        default=None,
        pattern=r"^https://docs\.aws\.amazon\.com/",
        description="The AWS documentation page the rule comes from",
    )
    securityhub: str | None = Field(default=None, description="Security Hub FSBP control id, e.g. RDS.5")
    config_rule: str | None = Field(default=None, description="AWS Config managed rule, e.g. rds-multi-az-support")
    prowler: str | None = Field(default=None, description="Prowler check id")
    trusted_advisor: str | None = Field(default=None, description="Trusted Advisor check name or id")
    service_screener: str | None = Field(default=None, description="Service Screener v2 check key")


class Remediation(_Strict):
    """What to do about a failure, and where to read more."""

    text: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://")


class Example(_Strict):
    """A resource document and the status the check must give it; the catalog test runs these."""

    name: str = Field(min_length=1)
    expect: Literal[Status.PASSED, Status.FAILED, Status.NOT_APPLICABLE] = Field(
        description=(
            "The status the check gives this document. Never UNKNOWN: that status comes from an input"
            " the collector could not read (see the resource's _unavailable), not from an expression"
        )
    )
    resource: dict[str, Any]


class CheckDefinition(_Strict):
    """One reliability check: metadata plus JMESPath expressions over a resource document."""

    id: str = Field(description="Stable kebab-case id; equals the file name without .yaml")
    title: str = Field(min_length=1, max_length=256, description="The desired state, not 'Ensure ...'")
    resource_type: str = Field(pattern=RESOURCE_TYPE_RE, description="CloudFormation type name")
    severity: Severity
    best_practice: str = Field(pattern=BEST_PRACTICE_RE, description="Well-Architected id, e.g. REL10-BP01")
    references: References = Field(default_factory=References)
    risk: str | None = Field(default=None, description="Why this matters (also the severity's reason)")
    applies_when: str | None = Field(default=None, description="JMESPath; the check applies only if true")
    passes_when: str = Field(min_length=1, description="JMESPath; must be exactly true to pass")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Thresholds, readable in expressions as _params.<name>"
    )
    graph: bool = Field(
        default=False,
        description="Evaluated on the resource's workload-graph document (Graph.*), not its resource document",
    )
    path: str | None = Field(
        default=None, description="Graph checks: JMESPath giving a failing finding's path (ARNs in order)"
    )
    blast_radius: bool = Field(
        default=False,
        description=(
            "A redundancy check (Multi-AZ, failover): when the workload graph is read, a failing "
            "finding names the entry points and workloads that depend on the resource, and its "
            "severity rises with them"
        ),
    )
    remediation: Remediation
    examples: list[Example] = Field(min_length=2)

    @field_validator("id")
    @classmethod
    def _kebab_case(cls, value: str) -> str:
        if not CHECK_ID_RE.match(value):
            raise ValueError(f"'{value}' is not kebab-case (e.g. rds-db-instance-multi-az)")
        return value

    @field_validator("title")
    @classmethod
    def _no_ensure(cls, value: str) -> str:
        if value.lower().startswith("ensure"):
            raise ValueError("state the desired state instead of starting with 'Ensure'")
        return value

    @field_validator("path")
    @classmethod
    def _path_needs_graph(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not info.data.get("graph"):
            raise ValueError("a path is read from the graph document: set graph: true")
        return value

    @field_validator("blast_radius")
    @classmethod
    def _radius_of_a_resource(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("graph"):
            raise ValueError("a graph check has no blast radius: it judges the graph itself")
        return value

    @field_validator("examples")
    @classmethod
    def _pass_and_fail(cls, value: list[Example]) -> list[Example]:
        expected = {example.expect for example in value}
        missing = {Status.PASSED, Status.FAILED} - expected
        if missing:
            raise ValueError(f"needs at least one example with expect: {sorted(missing)[0]}")
        return value
