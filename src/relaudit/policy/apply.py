"""The policy bound to a run's checks (pure): each resource's tier, the check as its tier judges it,
and the suppression that applies to a finding.

Rules:
- A resource's tier is the value of its tier tag (``relaudit:tier`` or the file's ``tier_tag``)
  when that names a tier; else the tier whose ``workloads`` name its workload (its tags'
  CloudFormation stack, else ``awsApplication``, else ``workload_tag``: policy.tags.resource_workload);
  else the first tier whose ``resources`` globs match its ARN; else ``default_tier``; else none
  (the checks as the catalog defines them).
- A tier's checks apply unless it leaves them out (``checks`` without them, or ``skip_checks``);
  a check it leaves out gives NOT_APPLICABLE, unevaluated, with the tier recorded. Its
  ``severity`` and ``parameters`` override the check's for that tier's resources only.
- A suppression marks FAILED findings only (a passing finding needs no exception); the status is
  kept. The file's suppressions are tried first, in order, then the resource's own tags. One that
  has expired (its ``expires`` / ``relaudit:suppress-until`` day is past, UTC) does not apply, and a
  note says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relaudit.models.check import Status
from relaudit.models.finding import Suppression
from relaudit.policy.config import ConfigError, ConfigSuppression, PolicyConfig, Tier
from relaudit.policy.tags import TagSuppression, read_tag_suppression, resource_tags, resource_workload

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from relaudit.catalog.loader import CompiledCheck
    from relaudit.models.resource import ResourceDocument

MAX_NOTES = 200
Marks = tuple[Suppression | None, str | None]  # what a finding carries: its suppression and its tier


def today_utc() -> dt.date:
    """Today's date in UTC, the calendar expiries are read in."""
    return dt.datetime.now(dt.UTC).date()


def _expired(day: dt.date) -> str:
    return f"expired on {day.isoformat()}: it no longer applies"


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


def _tier_problems(name: str, tier: Tier, checks: Mapping[str, CompiledCheck]) -> tuple[str, str] | None:
    where = f"policies.{name}"
    for field, refs in (("checks", tier.checks), ("skip_checks", tier.skip_checks)):
        for index, ref in enumerate(refs):
            if ref != "*" and ref not in checks:
                return f"{where}.{field}[{index}]", f"unknown check {ref!r:.60}"
    for check_id in tier.severity:
        if check_id not in checks:
            return f"{where}.severity.{check_id}", "unknown check"
    for check_id, values in tier.parameters.items():
        if check_id not in checks:
            return f"{where}.parameters.{check_id}", "unknown check"
        defaults = checks[check_id].definition.parameters
        for key, value in values.items():
            if key not in defaults:
                known = ", ".join(sorted(defaults)) or "none"
                return f"{where}.parameters.{check_id}.{key}", f"the check has no such parameter (it has: {known})"
            if not _same_kind(defaults[key], value):
                kind = type(defaults[key]).__name__
                return f"{where}.parameters.{check_id}.{key}", f"must be a {kind} like the default {defaults[key]!r}"
    return None


def validate_against_catalog(config: PolicyConfig, checks: Mapping[str, CompiledCheck], source: str) -> None:
    """Refuse a file naming checks or parameters the catalog does not have (a typo would silently not apply).

    Raises:
        ConfigError: Names the first bad field.
    """
    for position, rule in enumerate(config.suppressions):
        for index, ref in enumerate(rule.checks):
            if ref != "*" and ref not in checks:
                raise ConfigError(source, f"suppressions[{position}].checks[{index}]", f"unknown check {ref!r:.60}")
    for name, tier in config.policies.items():
        problem = _tier_problems(name, tier, checks)
        if problem is not None:
            raise ConfigError(source, *problem)


def _tier_variant(check: CompiledCheck, tier: Tier) -> CompiledCheck | None:
    """``check`` as ``tier`` judges it, or None when the tier leaves it out."""
    if ("*" not in tier.checks and check.id not in tier.checks) or check.id in tier.skip_checks:
        return None
    update: dict[str, Any] = {}
    if check.id in tier.severity:
        update["severity"] = tier.severity[check.id]
    if check.id in tier.parameters:
        update["parameters"] = {**check.definition.parameters, **tier.parameters[check.id]}
    if not update:
        return check
    # Validated by validate_against_catalog: same keys and kinds as the check's own.
    return dataclasses.replace(check, definition=check.definition.model_copy(update=update))


def _globs(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One compiled regex matching any of the fnmatch ``patterns`` (case-sensitive), None for none."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)) if patterns else None


@dataclass(frozen=True)
class _Rule:
    """A file suppression with its globs compiled once per run."""

    suppression: Suppression
    checks: frozenset[str] | None  # None: every check
    resources: re.Pattern[str] | None
    tags: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def of(cls, rule: ConfigSuppression) -> _Rule:
        return cls(
            suppression=Suppression(reason=rule.reason, expires=rule.expires, source="config"),
            checks=None if "*" in rule.checks else frozenset(rule.checks),
            resources=_globs(rule.resources),
            tags=tuple((key, re.compile(fnmatch.translate(value))) for key, value in rule.tags.items()),
        )

    def matches(self, check_id: str, arn: str, tags: Mapping[str, str]) -> bool:
        if self.checks is not None and check_id not in self.checks:
            return False
        if self.resources is not None and not self.resources.match(arn):
            return False
        return all(key in tags and pattern.match(tags[key]) for key, pattern in self.tags)


@dataclass(frozen=True)
class ResourcePolicy:
    """What the policy says for one resource."""

    tier: str | None
    _variants: Mapping[str, CompiledCheck | None]
    _rules: Sequence[_Rule]
    _tag_rule: TagSuppression | None
    _arn: str
    _tags: Mapping[str, str]
    _tier_marks: Marks

    def judged(self, check: CompiledCheck) -> CompiledCheck | None:
        """``check`` as this resource's tier judges it; None when the tier leaves it out."""
        return self._variants.get(check.id, check) if self.tier is not None else check

    def marks(self, check_id: str, status: Status) -> Marks | None:
        """The suppression and tier a finding of ``check_id`` with ``status`` carries (None: neither)."""
        if status is Status.FAILED:
            for rule in self._rules:
                if rule.matches(check_id, self._arn, self._tags):
                    return (rule.suppression, self.tier)
            if self._tag_rule is not None and self._tag_rule.covers(check_id):
                rule_ = self._tag_rule
                return (Suppression(reason=rule_.reason, expires=rule_.expires, source="tag"), self.tier)
        return self._tier_marks if self.tier is not None else None


class BoundPolicy:
    """A policy file bound to the catalog and to the run's day; gathers the notes of the run."""

    def __init__(
        self,
        config: PolicyConfig,
        catalog: Mapping[str, CompiledCheck],
        today: dt.date | None = None,
        source: str = "config",
    ) -> None:
        """Validate ``config`` against ``catalog`` and prepare each tier's checks.

        Raises:
            ConfigError: The file names an unknown check or parameter.
        """
        validate_against_catalog(config, catalog, source)
        self.config = config
        self.today = today or today_utc()
        self._known = frozenset(catalog)
        self._notes: dict[str, None] = {}
        self._rules: list[_Rule] = []
        for position, rule in enumerate(config.suppressions):
            if rule.expires is not None and rule.expires < self.today:
                self.note(f"suppressions[{position}] ({rule.reason}) {_expired(rule.expires)}")
            else:
                self._rules.append(_Rule.of(rule))
        self._variants = {
            name: {check_id: _tier_variant(check, tier) for check_id, check in catalog.items()}
            for name, tier in config.policies.items()
        }
        self._tier_marks: dict[str, Marks] = {name: (None, name) for name in config.policies}
        self._tier_globs = [(name, _globs(tier.resources)) for name, tier in config.policies.items()]
        self._tier_by_workload = {w: name for name, tier in config.policies.items() for w in tier.workloads}

    @property
    def notes(self) -> list[str]:
        """Expired and unhonoured suppressions, in the order met (at most MAX_NOTES, then a count)."""
        notes = list(self._notes)
        if len(notes) > MAX_NOTES:
            return [*notes[:MAX_NOTES], f"... and {len(notes) - MAX_NOTES} more notes"]
        return notes

    def note(self, text: str) -> None:
        """Record a note once."""
        self._notes.setdefault(text, None)

    def _tier_of(self, arn: str, tags: Mapping[str, str]) -> str | None:
        tagged = tags.get(self.config.tier_tag)
        if tagged is not None:
            if tagged in self.config.policies:
                return tagged
            self.note(f"{arn}: tag {self.config.tier_tag}={tagged!r:.60} names no tier of the policy file")
        workload = resource_workload(tags, self.config.workload_tag) if self._tier_by_workload else None
        if workload is not None and workload in self._tier_by_workload:
            return self._tier_by_workload[workload]
        for name, globs in self._tier_globs:
            if globs is not None and globs.match(arn):
                return name
        return self.config.default_tier

    def _tag_rule(self, arn: str, tags: Mapping[str, str]) -> TagSuppression | None:
        rule, notes = read_tag_suppression(tags, arn, self._known)
        for text in notes:
            self.note(text)
        if rule is not None and rule.expires is not None and rule.expires < self.today:
            self.note(f"{arn}: tag suppression ({rule.reason}) {_expired(rule.expires)}")
            return None
        return rule

    def for_resource(self, document: ResourceDocument) -> ResourcePolicy:
        """The tier and suppressions of one resource (its tags read once)."""
        tags = resource_tags(document.properties)
        tier = self._tier_of(document.arn, tags)
        return ResourcePolicy(
            tier=tier,
            _variants=self._variants[tier] if tier is not None else {},
            _rules=self._rules,
            _tag_rule=self._tag_rule(document.arn, tags),
            _arn=document.arn,
            _tags=tags,
            _tier_marks=self._tier_marks[tier] if tier is not None else (None, None),
        )
