"""The check loader, fuzzed: any file gives a compiled check or a CheckFileError, never another exception.

Inputs: random YAML documents, random text, every built-in check file mutated (lines dropped,
truncated, garbage inserted, values replaced or removed), and random JMESPath expressions. A
user's check is loaded the way ``--checks-dir`` loads it: compiled, then its own examples run
(check_examples), so what the loader lets through evaluates on them without error.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaudit.catalog.evaluate import status_of
from relaudit.catalog.loader import (
    MAX_DOCUMENT_DEPTH,
    CompiledCheck,
    builtin_checks_dir,
    check_examples,
    load_catalog,
    load_check,
)
from relaudit.errors import CheckFileError
from relaudit.inventory import COLLECTORS

BUILTIN = sorted(builtin_checks_dir().glob("*.yaml"))
NAME = "fuzzed-check"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["PASSED", "FAILED", "HIGH", "REL10-BP01", "AWS::SQS::Queue", "https://x.example"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)


def load_or_error(path: Path) -> CompiledCheck | None:
    """Load ``path``; a CheckFileError must name the file, a field and a reason on one line."""
    try:
        check = load_check(path, COLLECTORS)
        check_examples(check)
    except CheckFileError as error:
        assert error.path == str(path)
        assert error.field and error.reason
        assert str(error).startswith(f"{path}: field ")
        return None
    for example in check.definition.examples:  # what loads must evaluate
        status_of(check, example.resource)
    return check


def write(tmp_path: Path, text: str | bytes, name: str = NAME) -> Path:
    path = tmp_path / f"{name}.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@FUZZ
@given(json_values)
def test_random_yaml_documents(tmp_path: Path, document: Any) -> None:
    load_or_error(write(tmp_path, yaml.safe_dump(document, allow_unicode=True)))


@FUZZ
@given(st.text(max_size=300) | st.binary(max_size=200))
def test_random_text_and_bytes(tmp_path: Path, text: str | bytes) -> None:
    load_or_error(write(tmp_path, text))


@st.composite
def mutated_check(draw: st.DrawFn) -> tuple[str, str]:
    """A built-in check file, mutated as text or as data; returns (check id, text)."""
    path = draw(st.sampled_from(BUILTIN))
    text = path.read_text(encoding="utf-8")
    how = draw(st.sampled_from(["drop-line", "truncate", "insert", "replace-value", "delete-key"]))
    lines = text.splitlines(keepends=True)
    if how == "drop-line":
        del lines[draw(st.integers(0, len(lines) - 1))]
        return path.stem, "".join(lines)
    if how == "truncate":
        return path.stem, text[: draw(st.integers(0, len(text)))]
    if how == "insert":
        at = draw(st.integers(0, len(text)))
        return path.stem, text[:at] + draw(st.text(alphabet=":-[]{}&*!|>'\"#%@`\n\t abc", max_size=12)) + text[at:]
    data = copy.deepcopy(yaml.safe_load(text))
    parent, key = _random_slot(draw, data)
    if how == "delete-key" and isinstance(parent, dict):
        del parent[key]
    else:
        parent[key] = draw(json_values)
    return path.stem, yaml.safe_dump(data, allow_unicode=True)


def _random_slot(draw: st.DrawFn, data: Any) -> tuple[Any, Any]:
    """Walk down a random path of ``data``; return a (container, key) on it."""
    parent: Any = data
    key: Any = draw(st.sampled_from(sorted(data)))
    while isinstance(parent[key], dict | list) and parent[key] and draw(st.booleans()):
        parent = parent[key]
        key = (
            draw(st.sampled_from(sorted(parent))) if isinstance(parent, dict) else draw(st.integers(0, len(parent) - 1))
        )
    return parent, key


@FUZZ
@given(mutated_check())
def test_mutated_builtin_checks(tmp_path: Path, mutated: tuple[str, str]) -> None:
    check_id, text = mutated
    load_or_error(write(tmp_path, text, check_id))


GOOD = yaml.safe_load((builtin_checks_dir() / "sqs-queue-redrive-policy-configured.yaml").read_text())
expression_text = st.text(alphabet="abc.[]*?|&!=<>(){}`'\"@:,0123 -_", max_size=40) | st.sampled_from(
    ["length(a)", "unique(a)", "lower(`1`)", "includes(a, `1`)", "max_by(a, &b)", "not_a_function(a)", "length()"]
)


@FUZZ
@given(expression_text, st.sampled_from(["passes_when", "applies_when"]))
def test_random_jmespath_expressions(tmp_path: Path, expression: str, field: str) -> None:
    document = {**GOOD, field: expression}
    load_or_error(write(tmp_path, yaml.safe_dump(document), GOOD["id"]))


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("lenght(RedrivePolicy) > `0`", "unknown function lenght()"),
        ("length(RedrivePolicy, `1`)", "length() takes 1 arguments, got 2"),
        ("merge()", "merge() takes 1 or more arguments, got 0"),
        ("(" * 2000 + "a" + ")" * 2000, "nested too deeply"),
        ("a | " * 100 + "b", "nested deeper than"),
    ],
)
def test_mistakes_jmespath_finds_only_when_evaluating_are_refused_at_load(
    tmp_path: Path, expression: str, reason: str
) -> None:
    path = write(tmp_path, yaml.safe_dump({**GOOD, "passes_when": expression}), GOOD["id"])
    with pytest.raises(CheckFileError) as caught:
        load_check(path, COLLECTORS)
    assert caught.value.field == "passes_when"
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a: " + "[" * 3000 + "]" * 3000, id="flow sequences 3,000 deep"),
        pytest.param("a: " + "{b: " * 3000 + "1" + "}" * 3000, id="flow mappings 3,000 deep"),
        pytest.param("a:\n" + "".join(" " * i + "- \n" for i in range(1, 200)), id="block sequences 200 deep"),
        pytest.param("id: " + "9" * 5000, id="an integer longer than Python converts"),
        pytest.param("!!python/object/apply:os.system ['true']", id="a python object tag"),
    ],
)
def test_hostile_yaml_is_a_check_file_error(tmp_path: Path, text: str) -> None:
    """Refused as a file error on `<yaml>`, whichever layer refuses it (PyYAML's own depth limit, which
    some releases have and others not, or relaudit's): the wording of PyYAML's message is not ours."""
    with pytest.raises(CheckFileError) as caught:
        load_check(write(tmp_path, text), COLLECTORS)
    assert caught.value.field == "<yaml>"
    assert caught.value.reason


def test_a_document_deeper_than_the_limit_is_refused_before_validation(tmp_path: Path) -> None:
    """Within what the YAML parser accepts, relaudit's own limit refuses the depth (its reason, its words)."""
    deep: object = 1
    for _ in range(MAX_DOCUMENT_DEPTH + 1):
        deep = [deep]
    with pytest.raises(CheckFileError) as caught:
        load_check(write(tmp_path, yaml.safe_dump({**GOOD, "examples": deep})), COLLECTORS)
    assert (caught.value.field, caught.value.reason) == ("<yaml>", "nested too deeply")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"passes_when": "length(NoSuchField) > `0`"}, "the expressions fail on it:"),
        ({"passes_when": "RedrivePolicy == null"}, "expects PASSED, the check gives FAILED"),
    ],
)
def test_a_user_check_is_its_own_test_at_load(tmp_path: Path, change: dict[str, str], reason: str) -> None:
    """Compiling is not enough: a --checks-dir check's examples run at load; a failing one is reported."""
    write(tmp_path, yaml.safe_dump({**GOOD, **change, "id": "my-user-check"}), "my-user-check")
    catalog = load_catalog(extra_dirs=[tmp_path], known_types=COLLECTORS)
    [problem] = catalog.problems
    assert "my-user-check" not in catalog.checks
    assert GOOD["id"] in catalog.checks, "the built-ins still load"
    assert problem.field.startswith("examples.")
    assert reason in problem.reason
