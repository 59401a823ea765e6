"""Bad check files get an error naming file, field and reason; user files never sink built-ins."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaudit.catalog.loader import builtin_checks_dir, load_catalog, load_check
from relaudit.errors import CheckFileError, RelauditError
from relaudit.inventory import COLLECTORS

GOOD = """\
id: {id}
title: Queue has a redrive policy
resource_type: AWS::SQS::Queue
severity: MEDIUM
best_practice: REL05-BP04
passes_when: "RedrivePolicy != null"
remediation: {{text: Add one., url: "https://example.com/x"}}
examples:
  - {{name: ok, expect: PASSED, resource: {{RedrivePolicy: {{}}}}}}
  - {{name: bad, expect: FAILED, resource: {{}}}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    check = load_check(write(tmp_path, "my-check", GOOD.format(id="my-check")), COLLECTORS)
    assert check.id == "my-check"


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (lambda t: t.replace("severity: MEDIUM", "severity: SEVERE"), "severity", None),
        (lambda t: t + "colour: red\n", "colour", None),
        (lambda t: t.replace('"RedrivePolicy != null"', '"RedrivePolicy !=="'), "passes_when", "invalid JMESPath"),
        (lambda t: t.replace("REL05-BP04", "REL5"), "best_practice", None),
        (lambda t: t.replace("AWS::SQS::Queue", "AWS::Nope::Thing"), "resource_type", "no collector"),
        (lambda t: t.replace("id: my-check", "id: other-check"), "id", "must equal the file name"),
        (lambda t: t.replace("title: Queue", "title: Ensure queue"), "title", "instead of starting with 'Ensure'"),
        (lambda t: t.replace("expect: FAILED", "expect: PASSED"), "examples", "expect: FAILED"),
        (lambda t: t.replace("https://example.com/x", "http://x"), "remediation.url", None),
        (lambda t: "id: [unclosed\n", "<yaml>", None),
        (lambda t: "- just\n- a list\n", "<document>", "mapping"),
    ],
)
def test_error_names_file_field_and_reason(tmp_path: Path, mutate, field: str, reason: str | None) -> None:  # type: ignore[no-untyped-def]
    """The file and the field always; the reason where the words are relaudit's (pydantic's and PyYAML's
    wording is theirs to change)."""
    path = write(tmp_path, "my-check", mutate(GOOD.format(id="my-check")))
    with pytest.raises(CheckFileError) as caught:
        load_check(path, COLLECTORS)
    error = caught.value
    assert error.path == str(path)
    assert error.field == field
    assert error.reason
    if reason is not None:
        assert reason in error.reason
    assert str(error).startswith(f"{path}: field '{field}':")


def test_bad_user_check_is_reported_and_builtins_still_load(tmp_path: Path) -> None:
    write(tmp_path, "my-check", GOOD.format(id="my-check"))
    write(tmp_path, "broken-check", GOOD.format(id="broken-check").replace("MEDIUM", "LOUD"))
    builtin_count = len(list(builtin_checks_dir().glob("*.yaml")))
    catalog = load_catalog(extra_dirs=[tmp_path], known_types=COLLECTORS)
    assert len(catalog.checks) == builtin_count + 1
    assert "my-check" in catalog.checks
    assert [p.field for p in catalog.problems] == ["severity"]


def test_user_check_cannot_shadow_a_builtin(tmp_path: Path) -> None:
    text = GOOD.format(id="sqs-queue-redrive-policy-configured")
    write(tmp_path, "sqs-queue-redrive-policy-configured", text)
    catalog = load_catalog(extra_dirs=[tmp_path], known_types=COLLECTORS)
    assert catalog.problems[0].field == "id"
    assert catalog.checks["sqs-queue-redrive-policy-configured"].path.startswith(str(builtin_checks_dir()))


def test_bad_builtin_check_is_fatal(tmp_path: Path) -> None:
    write(tmp_path, "my-check", GOOD.format(id="my-check").replace("MEDIUM", "LOUD"))
    with pytest.raises(CheckFileError):
        load_catalog(builtin_dir=tmp_path, known_types=COLLECTORS)


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RelauditError, match="not a directory"):
        load_catalog(extra_dirs=[tmp_path / "nope"], known_types=COLLECTORS)
