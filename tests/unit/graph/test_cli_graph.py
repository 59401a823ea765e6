"""`relaudit graph` refuses bad input with exit 2 and a message naming the flag, before any AWS call."""

from __future__ import annotations

from typing import Any

import pytest

from relaudit import cli


def test_an_unknown_format_is_refused(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["graph", "--format", "svg"])
    assert exit_info.value.code == cli.EXIT_BAD_INPUT
    assert "--format" in capsys.readouterr().err


def test_an_empty_workload_tag_is_refused(capsys: Any) -> None:
    assert cli.main(["graph", "--workload-tag", " "]) == cli.EXIT_BAD_INPUT
    assert "--workload-tag" in capsys.readouterr().err


def test_an_output_in_a_missing_directory_is_refused(capsys: Any, tmp_path: Any) -> None:
    assert cli.main(["graph", "--output", str(tmp_path / "no" / "graph.json")]) == cli.EXIT_BAD_INPUT
    assert "--output" in capsys.readouterr().err
