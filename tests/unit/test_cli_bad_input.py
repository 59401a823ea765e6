"""Bad CLI input: exit 2 with one line naming the flag and the value, no traceback, no AWS call.

AWS_ENDPOINT_URL points at a listening socket on 127.0.0.1 that nothing should ever connect to
(the tripwire): bad input must be refused before the first API call, so nothing is read or
written. A few cases run the installed ``relaudit`` entry point in a subprocess.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from relaudit import cli
from relaudit.catalog.loader import builtin_checks_dir

RELAUDIT = Path(sys.executable).with_name("relaudit")
GOOD_CHECK = (builtin_checks_dir() / "sqs-queue-redrive-policy-configured.yaml").read_text()


@pytest.fixture
def tripwire(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An endpoint on 127.0.0.1 that fails the test if any client connects to it.

    It hangs up on whoever connects (so a wrongly accepted input fails fast instead of waiting
    out read timeouts) and counts them.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)
    connections: list[object] = []
    stop = threading.Event()

    def hang_up() -> None:
        while not stop.is_set():
            try:
                connection, peer = listener.accept()
            except OSError:
                continue
            connections.append(peer)
            connection.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    yield endpoint
    stop.set()
    thread.join(timeout=5)
    listener.close()
    assert connections == [], "bad input reached AWS"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # argparse exits
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--regions", "mars-1"], "--regions: 'mars-1' is not a region name"),
        (["--regions", "us-east-1,xx-nowhere-9"], "--regions: unknown region 'xx-nowhere-9'"),
        (["--regions", ","], "expected a comma-separated list, got ','"),
        (["--regions", ",".join(f"us-east-{i}" for i in range(65))], "--regions: List should have at most 64"),
        (["--checks", "Bad_Id"], "--checks: 'Bad_Id' is not a check id"),
        (["--checks", "no-such-check"], "--checks: unknown check id 'no-such-check'"),
        (["--checks", "a-" * 200 + "b"], "--checks: 'a-a-a-a-"),
        (["--max-workers", "0"], "--max-workers: Input should be greater than or equal to 1 (got 0)"),
        (["--max-workers", "1000"], "(got 1000)"),
        (["--max-workers", "many"], "argument --max-workers: invalid int value: 'many'"),
        (["--fail-on", "SEVERE"], "invalid severity 'SEVERE'"),
        (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["--sink", "email"], "argument --sink: invalid choice: 'email'"),
        (["--sink", "dynamodb"], "--table: the dynamodb sink needs a findings table"),
        (["--table", "x"], "--table: String should have at least 3 characters (got 'x')"),
        (["--checks-dir", "/nonexistent/checks"], "--checks-dir: not a directory: /nonexistent/checks"),
        (["--output", "/nonexistent/dir/report.json"], "--output: directory '/nonexistent/dir' does not exist"),
        (["--zone", "us-east-1a"], "unrecognized arguments: --zone us-east-1a"),
    ],
)
def test_bad_audit_flags(tripwire: str, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    code, out, err = run_cli(capsys, "audit", *argv)
    assert code == cli.EXIT_BAD_INPUT
    assert out == ""
    assert expected in err
    assert err.startswith("relaudit: error: ") and err.count("\n") == 1, "one line, no usage dump"
    assert "Traceback" not in err


def test_output_that_is_a_directory(tmp_path: Path, tripwire: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "audit", "--output", str(tmp_path))
    assert code == cli.EXIT_BAD_INPUT
    assert f"--output: '{tmp_path}' is a directory" in err


def test_no_command(tripwire: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys)
    assert code == cli.EXIT_BAD_INPUT
    assert "the following arguments are required: command" in err


def user_checks(tmp_path: Path) -> Path:
    """A --checks-dir with one good check and one broken check of each kind."""
    good = yaml.safe_load(GOOD_CHECK)

    def variant(check_id: str, **change: object) -> str:
        return yaml.safe_dump({**good, "id": check_id, **change})

    files = {
        "my-queue-redrive": variant("my-queue-redrive"),
        "bad-yaml": "id: [unclosed\n",
        "bad-field": variant("bad-field", colour="red"),
        "bad-jmespath": variant("bad-jmespath", passes_when="RedrivePolicy !=="),
        "bad-enum": variant("bad-enum", severity="LOUD"),
    }
    directory = tmp_path / "checks"
    directory.mkdir()
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text)
    return directory


def test_bad_user_checks_are_reported_and_do_not_stop_the_rest(
    tmp_path: Path, tripwire: str, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = user_checks(tmp_path)
    code, out, err = run_cli(capsys, "checks", "--format", "json", "--checks-dir", str(directory))
    assert code == cli.EXIT_OK
    listed = {check["id"] for check in json.loads(out)}
    assert "my-queue-redrive" in listed
    assert {p.stem for p in builtin_checks_dir().glob("*.yaml")} <= listed
    warnings = [line for line in err.splitlines() if line.startswith("relaudit: warning: skipped check: ")]
    by_file = {Path(line.split(": field ")[0].rsplit(" ", 1)[-1]).stem: line for line in warnings}
    assert set(by_file) == {"bad-yaml", "bad-field", "bad-jmespath", "bad-enum"}
    assert "bad-yaml.yaml: field '<yaml>': " in by_file["bad-yaml"]
    assert "bad-field.yaml: field 'colour': Extra inputs are not permitted" in by_file["bad-field"]
    assert "bad-jmespath.yaml: field 'passes_when': invalid JMESPath" in by_file["bad-jmespath"]
    assert "bad-enum.yaml: field 'severity': Input should be 'INFORMATIONAL'" in by_file["bad-enum"]


def test_audit_with_a_bad_user_check_still_refuses_bad_flags_first(
    tmp_path: Path, tripwire: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "audit", "--checks-dir", str(user_checks(tmp_path)), "--checks", "bad-enum")
    assert code == cli.EXIT_BAD_INPUT
    assert "skipped check" in err and "--checks: unknown check id 'bad-enum'" in err


def subprocess_relaudit(endpoint: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1"}
    env |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": "/nonexistent"}
    return subprocess.run([str(RELAUDIT), *argv], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["audit", "--regions", "mars-1"], "relaudit: error: --regions: 'mars-1' is not a region name"),
        (["audit", "--checks", "no-such-check"], "relaudit: error: --checks: unknown check id 'no-such-check'"),
        (["audit", "--max-workers", "-3"], "relaudit: error: --max-workers: Input should be greater than or equal"),
        (["audit", "--fail-on", "LOUD"], "relaudit: error: argument --fail-on: invalid severity 'LOUD'"),
    ],
)
def test_the_installed_entry_point(tripwire: str, argv: list[str], expected: str) -> None:
    done = subprocess_relaudit(tripwire, *argv)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(expected)
    assert "Traceback" not in done.stderr


def test_flag_prefixes_are_not_accepted() -> None:
    """`--region` is a typo, not a silent `--regions`: argparse's abbreviations are off."""
    from relaudit.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["audit", "--region", "us-east-1"])
    assert caught.value.code == 2
