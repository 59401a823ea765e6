"""Read checks/*.yaml into validated, compiled checks, with errors that name file and field."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jmespath
import yaml
from jmespath.exceptions import JMESPathError
from pydantic import ValidationError

from relaudit.catalog.evaluate import EVALUATION_ERRORS, status_of
from relaudit.catalog.functions import OPTIONS
from relaudit.errors import CheckFileError, RelauditError
from relaudit.graph.facts import SOURCE_TYPES as GRAPH_SOURCE_TYPES
from relaudit.models.check import CheckDefinition

if TYPE_CHECKING:
    from collections.abc import Iterable

    from jmespath.parser import ParsedResult

CHECKS_DIR_ENV = "RELAUDIT_CHECKS_DIR"


@dataclass(frozen=True)
class CompiledCheck:
    """A check definition with its JMESPath expressions compiled once."""

    definition: CheckDefinition
    applies: ParsedResult | None
    passes: ParsedResult
    path: str
    finding_path: ParsedResult | None = None  # graph checks: the failing finding's path

    @property
    def id(self) -> str:
        """The check id."""
        return self.definition.id

    def fields(self) -> frozenset[str]:
        """Every field name the check's expressions mention, at any depth.

        Collectors skip enrichment calls whose field no selected check reads; over-approximating
        (a nested name counts too) only costs a call, never a wrong finding.
        """
        names: set[str] = set()
        stack = [expr.parsed for expr in (self.applies, self.passes, self.finding_path) if expr is not None]
        while stack:
            node = stack.pop()
            if node.get("type") == "field":
                names.add(node["value"])
            stack.extend(child for child in node.get("children", []) if isinstance(child, dict))
        return frozenset(names)


@dataclass
class Catalog:
    """Every loaded check by id, plus the problems found in user-supplied check files."""

    checks: dict[str, CompiledCheck] = field(default_factory=dict)
    problems: list[CheckFileError] = field(default_factory=list)

    def resource_types(self) -> set[str]:
        """The resource types these checks read (a graph check reads every type the graph is built from)."""
        types = {check.definition.resource_type for check in self.checks.values()}
        if any(check.definition.graph for check in self.checks.values()):
            types |= set(GRAPH_SOURCE_TYPES)
        return types


def builtin_checks_dir() -> Path:
    """Locate the built-in checks: $RELAUDIT_CHECKS_DIR, the packaged copy, or the repository's checks/."""
    override = os.environ.get(CHECKS_DIR_ENV)
    if override:
        return Path(override)
    packaged = Path(__file__).resolve().parent.parent / "checks"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "checks"


def _field_of(error: ValidationError) -> tuple[str, str]:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "<document>"
    return location, first["msg"]


# libyaml's C parser when PyYAML has it (about a third of start-up's parsing time saved), else the
# pure-Python one; both are safe loaders.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DOCUMENT_DEPTH = 64  # the C parser accepts any depth; validating a deeper document would recurse


def _nesting(value: Any) -> int:
    """How deeply lists and mappings nest in ``value`` (iterative: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DOCUMENT_DEPTH:
                break
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


MAX_EXPRESSION_DEPTH = 64  # evaluation recurses per level: deeper would raise RecursionError mid-run


def _check_tree(path: str, field_name: str, parsed: ParsedResult) -> None:
    """Refuse, at load time, what JMESPath only finds when evaluating (where a user check's mistake
    would fail the whole run): unknown functions, wrong argument counts, absurd nesting."""
    table = OPTIONS.custom_functions.FUNCTION_TABLE if OPTIONS.custom_functions else {}
    stack = [(parsed.parsed, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPRESSION_DEPTH:
            raise CheckFileError(path, field_name, f"invalid JMESPath: nested deeper than {MAX_EXPRESSION_DEPTH}")
        if node.get("type") == "function_expression":
            name, given = node["value"], len(node.get("children", []))
            if name not in table:
                raise CheckFileError(path, field_name, f"invalid JMESPath: unknown function {name}()")
            signature = table[name]["signature"]
            variadic = bool(signature) and bool(signature[-1].get("variadic"))
            if given < len(signature) or (given > len(signature) and not variadic):
                expected = f"{len(signature)}{' or more' if variadic else ''}"
                reason = f"invalid JMESPath: {name}() takes {expected} arguments, got {given}"
                raise CheckFileError(path, field_name, reason)
        stack.extend((child, depth + 1) for child in node.get("children", []) if isinstance(child, dict))


def _compile(path: str, field_name: str, expression: str) -> ParsedResult:
    try:
        parsed = jmespath.compile(expression)
    except JMESPathError as exc:
        message = str(exc).replace("\n", " ")
        raise CheckFileError(path, field_name, f"invalid JMESPath: {message}") from exc
    except RecursionError as exc:
        raise CheckFileError(path, field_name, "invalid JMESPath: nested too deeply") from exc
    _check_tree(path, field_name, parsed)
    return parsed


def load_check(path: Path, known_types: Iterable[str] | None = None) -> CompiledCheck:
    """Load, validate and compile one check file.

    Args:
        path: The YAML file.
        known_types: Resource types a collector exists for; None skips that validation.

    Returns:
        The compiled check.

    Raises:
        CheckFileError: The file is unreadable, not YAML, or invalid; the message names the field.
    """
    shown = str(path)
    try:
        raw: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckFileError(shown, "<file>", f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        # Recent PyYAML (6.0.4 here) refuses deep flow nesting itself, before Python's recursion limit.
        if "nesting depth" in str(getattr(exc, "problem", "")):
            raise CheckFileError(shown, "<yaml>", "nested too deeply") from exc
        raise CheckFileError(shown, "<yaml>", str(exc).replace("\n", " ")) from exc
    except RecursionError as exc:
        raise CheckFileError(shown, "<yaml>", "nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer longer than Python converts (sys.get_int_max_str_digits)
        raise CheckFileError(shown, "<yaml>", str(exc)) from exc
    if _nesting(raw) > MAX_DOCUMENT_DEPTH:
        raise CheckFileError(shown, "<yaml>", "nested too deeply")
    if not isinstance(raw, dict):
        raise CheckFileError(shown, "<document>", "must be a mapping of fields")
    try:
        definition = CheckDefinition.model_validate(raw)
    except ValidationError as exc:
        field_name, message = _field_of(exc)
        raise CheckFileError(shown, field_name, message) from exc
    if definition.id != path.stem:
        raise CheckFileError(shown, "id", f"'{definition.id}' must equal the file name '{path.stem}'")
    if known_types is not None and definition.resource_type not in set(known_types):
        raise CheckFileError(shown, "resource_type", f"no collector for '{definition.resource_type}'")
    applies = _compile(shown, "applies_when", definition.applies_when) if definition.applies_when else None
    passes = _compile(shown, "passes_when", definition.passes_when)
    finding_path = _compile(shown, "path", definition.path) if definition.path else None
    return CompiledCheck(definition=definition, applies=applies, passes=passes, path=shown, finding_path=finding_path)


def check_examples(check: CompiledCheck) -> None:
    """The check is its own test: each example must evaluate, to the status it expects.

    The built-in checks are held to this by the test suite; a user's check (``--checks-dir``) is
    held to it at load, since an expression that compiles can still fail on data (``length()``
    of a missing field) or be wrong, and its examples show it before the audit runs.

    Raises:
        CheckFileError: An example fails to evaluate or gets another status; names the example.
    """
    for index, example in enumerate(check.definition.examples):
        field_name = f"examples.{index} ({example.name})"
        try:
            status = status_of(check, example.resource)
        except EVALUATION_ERRORS as exc:
            message = str(exc).replace("\n", " ")
            raise CheckFileError(check.path, field_name, f"the expressions fail on it: {message}") from exc
        if status is not example.expect:
            raise CheckFileError(
                check.path, field_name, f"expects {example.expect.value}, the check gives {status.value}"
            )


def load_catalog(
    builtin_dir: Path | None = None,
    extra_dirs: Iterable[Path] = (),
    known_types: Iterable[str] | None = None,
) -> Catalog:
    """Load the built-in checks (any error is fatal) and user checks (errors are reported, skipped).

    Args:
        builtin_dir: Directory of built-in checks; defaults to :func:`builtin_checks_dir`.
        extra_dirs: Directories of user-supplied checks.
        known_types: Resource types a collector exists for.

    Returns:
        The catalog.

    Raises:
        RelauditError: A built-in check is invalid, or a directory is missing.
    """
    types = set(known_types) if known_types is not None else None
    catalog = Catalog()
    directory = builtin_dir or builtin_checks_dir()
    if not directory.is_dir():
        raise RelauditError(f"checks directory not found: {directory}")
    for path in sorted(directory.glob("*.yaml")):
        check = load_check(path, types)
        catalog.checks[check.id] = check
    for extra in extra_dirs:
        if not extra.is_dir():
            raise RelauditError(f"--checks-dir: not a directory: {extra}")
        for path in sorted(extra.glob("*.yaml")):
            try:
                check = load_check(path, types)
                check_examples(check)
            except CheckFileError as problem:
                catalog.problems.append(problem)
                continue
            if check.id in catalog.checks:
                catalog.problems.append(CheckFileError(str(path), "id", f"'{check.id}' is already defined"))
                continue
            catalog.checks[check.id] = check
    return catalog
