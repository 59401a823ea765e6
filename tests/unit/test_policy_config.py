"""The policy file: what it accepts, and errors that name the bad field (the CLI exits 2, no traceback)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from relaudit import cli
from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS
from relaudit.policy.apply import validate_against_catalog
from relaudit.policy.config import ConfigError, parse_config

RULE = "suppressions:\n  - checks: [rds-db-instance-multi-az]\n    resources: ['*:db:reports-db']\n"


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "relaudit.yaml")
    return caught.value


def test_a_full_file_is_read() -> None:
    config = parse_config(
        RULE
        + "    reason: dev database\n    expires: 2027-01-31\n"
        + "  - checks: ['*']\n    tags: {env: dev*}\n    reason: sandbox\n"
        + "tier_tag: team:tier\ndefault_tier: standard\n"
        + "policies:\n  standard: {}\n  dev:\n    resources: ['arn:aws:rds:*:*:db:dev-*']\n"
        + "    skip_checks: [rds-db-instance-multi-az]\n    severity: {rds-db-instance-backup-retention: LOW}\n",
        "relaudit.yaml",
    )
    first, second = config.suppressions
    assert first.expires == dt.date(2027, 1, 31) and first.reason == "dev database"
    assert second.checks == ["*"] and second.tags == {"env": "dev*"} and second.resources == []
    assert config.tier_tag == "team:tier" and config.default_tier == "standard"
    assert config.policies["dev"].checks == ["*"]


def test_empty_file_is_an_empty_policy() -> None:
    assert parse_config("", "x") == parse_config("{}", "x")


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (RULE, "suppressions[0].reason"),
        (RULE + "    reason: '   '\n", "suppressions[0].reason"),
        (RULE + "    reason: x\n    expires: 2027-13-01\n", "suppressions[0].expires"),
        (RULE + "    reason: x\n    expires: next week\n", "suppressions[0].expires"),
        (RULE + "    reason: x\n    expires: 1767225600\n", "suppressions[0].expires"),
        (RULE + "    reason: x\n    expires: 2027-01-31T00:00:00\n", "suppressions[0].expires"),
        (RULE + "    reason: x\n    reson: typo\n", "suppressions[0].reson"),
        (RULE + "    reason: " + "x" * 257 + "\n", "suppressions[0].reason"),
        ("suppressions:\n  - {checks: [Multi_AZ], resources: ['*'], reason: x}\n", "suppressions[0].checks"),
        ("suppressions:\n  - {checks: [], resources: ['*'], reason: x}\n", "suppressions[0].checks"),
        ("suppressions:\n  - {checks: ['*'], reason: x}\n", "suppressions[0]"),
        ("policies:\n  'dev,test': {}\n", "policies"),
        (
            "policies:\n  dev: {severity: {rds-db-instance-multi-az: URGENT}}\n",
            "policies.dev.severity.rds-db-instance-multi-az",
        ),
        ("policies:\n  dev: {}\ndefault_tier: prod\n", ""),
        ("tier_tag: 'aws:tier'\n", "tier_tag"),
        ("workload_tag: ''\n", "workload_tag"),
        ("policies:\n  dev: {workloads: ['']}\n", "policies.dev.workloads"),
        ("policies:\n  dev: {workloads: ['shop,cart']}\n", "policies.dev.workloads"),
        ("policies:\n  dev: {workloads: shop}\n", "policies.dev.workloads"),
        ("policies:\n  dev: {workload: [shop]}\n", "policies.dev.workload"),
        ("policies:\n  dev: {workloads: [shop]}\n  prod: {workloads: [cart, shop]}\n", "policies"),
        ("suppression: []\n", "suppression"),
    ],
)
def test_bad_values_are_named(text: str, path: str) -> None:
    error = error_of(text)
    assert error.path == path
    assert error.source == "relaudit.yaml" and error.field == "relaudit.yaml"


def test_a_suppression_without_selection_says_how_to_select() -> None:
    assert "resources" in error_of("suppressions:\n  - {checks: ['*'], reason: x}\n").message


@pytest.mark.parametrize("text", ["suppressions: [", "- a list\n- not a mapping\n"])
def test_not_a_policy_file(text: str) -> None:
    assert error_of(text).path == ""


def test_the_catalog_holds_the_file_to_its_checks_and_parameters() -> None:
    checks = load_catalog(known_types=COLLECTORS).checks
    cases = {
        "suppressions:\n  - {checks: [rds-db-instance-multy-az], resources: ['*'], reason: x}\n": (
            "suppressions[0].checks[0]"
        ),
        "policies:\n  dev: {skip_checks: [no-such-check]}\n": "policies.dev.skip_checks[0]",
        "policies:\n  c: {parameters: {rds-db-instance-backup-retention: {min_days: 14}}}\n": (
            "policies.c.parameters.rds-db-instance-backup-retention.min_days"
        ),
        "policies:\n  c: {parameters: {rds-db-instance-backup-retention: {min_retention_days: two}}}\n": (
            "policies.c.parameters.rds-db-instance-backup-retention.min_retention_days"
        ),
        "policies:\n  c: {parameters: {rds-db-instance-backup-retention: {min_retention_days: true}}}\n": (
            "policies.c.parameters.rds-db-instance-backup-retention.min_retention_days"
        ),
    }
    for text, path in cases.items():
        with pytest.raises(ConfigError) as caught:
            validate_against_catalog(parse_config(text, "f"), checks, "f")
        assert caught.value.path == path, text
    fine = "policies:\n  c: {parameters: {rds-db-instance-backup-retention: {min_retention_days: 14}}}\n"
    validate_against_catalog(parse_config(fine, "f"), checks, "f")


def test_cli_refuses_a_suppression_without_reason_with_exit_2_naming_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "relaudit.yaml"
    config.write_text(RULE)
    assert cli.main(["audit", "--config", str(config)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"relaudit: error: --config {config}: suppressions[0].reason: ")
    assert "Traceback" not in err


def test_cli_refuses_an_unknown_check_in_the_file_and_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "relaudit.yaml"
    config.write_text("suppressions:\n  - {checks: [no-such-check], resources: ['*'], reason: x}\n")
    assert cli.main(["audit", "--config", str(config)]) == cli.EXIT_BAD_INPUT
    assert "suppressions[0].checks[0]: unknown check 'no-such-check'" in capsys.readouterr().err
    assert cli.main(["audit", "--config", str(tmp_path / "absent.yaml")]) == cli.EXIT_BAD_INPUT
    assert "absent.yaml: cannot read it" in capsys.readouterr().err


def test_a_workload_in_two_tiers_names_both_places() -> None:
    error = error_of("policies:\n  dev: {workloads: [shop]}\n  prod: {workloads: [cart, shop]}\n")
    assert "dev.workloads[0]" in error.message and "prod.workloads[1]" in error.message


def test_cli_refuses_a_bad_workload_with_exit_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "relaudit.yaml"
    config.write_text("policies:\n  dev: {workloads: ['a,b']}\n")
    assert cli.main(["audit", "--config", str(config)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"relaudit: error: --config {config}: policies.dev.workloads: ")
    assert "Traceback" not in err
