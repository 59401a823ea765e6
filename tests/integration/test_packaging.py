"""The Lambda artifact: checks/ ships inside the package where the loader looks; the wheels are the
Lambda lock's, for aarch64 and the function's Python."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.conftest import ROOT
from tests.integration.template_support import sam_template
from tests.support.locks import LAMBDA_ENVIRONMENT, pinned

ELF_MACHINE_AARCH64 = 183

PROBE = """
import json
import relaudit
from relaudit.catalog.loader import builtin_checks_dir, load_catalog
from relaudit.inventory import COLLECTORS
catalog = load_catalog(known_types=COLLECTORS)
print(json.dumps({"package": relaudit.__file__, "checks_dir": str(builtin_checks_dir()),
                  "checks": sorted(catalog.checks), "problems": [str(p) for p in catalog.problems]}))
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_artifact_code_loads_every_check_from_inside_the_package(tmp_path: Path) -> None:
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    # The offline half of `make build-AuditFunction` (the other half downloads the dependencies).
    subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "lambda-code", f"ARTIFACTS_DIR={artifact}"],
        check=True,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    env = {k: v for k, v in os.environ.items() if k != "RELAUDIT_CHECKS_DIR"} | {"PYTHONPATH": str(artifact)}
    # PYTHONPATH puts the artifact before the editable install of the repository.
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    loaded = json.loads(probe.stdout.strip().splitlines()[-1])
    assert Path(loaded["package"]).is_relative_to(artifact), "the probe imported the repository, not the artifact"
    assert Path(loaded["checks_dir"]) == artifact / "relaudit" / "checks"
    assert loaded["checks"] == sorted(p.stem for p in (ROOT / "checks").glob("*.yaml"))
    assert loaded["problems"] == []
    assert not list(artifact.rglob("__pycache__"))


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make build-AuditFunction` as `sam build` runs it: the locked aarch64 wheels plus code and checks."""
    if shutil.which("make") is None:
        pytest.skip("needs make")
    built = tmp_path_factory.mktemp("artifact")
    subprocess.run(
        [
            "make",
            "-s",
            "-f",
            str(ROOT / "Makefile"),
            "build-AuditFunction",
            f"ARTIFACTS_DIR={built}",
            f"PY={sys.executable}",
        ],
        check=True,
        cwd=built,
        capture_output=True,
        timeout=600,
    )
    return built


def test_built_artifact_holds_the_lambda_locks_versions(artifact: Path) -> None:
    installed = {}
    for dist_info in artifact.glob("*.dist-info"):
        fields = dict(line.split(": ", 1) for line in (dist_info / "METADATA").read_text().splitlines() if ": " in line)
        installed[canonicalize_name(fields["Name"])] = fields["Version"]
    assert installed == pinned("lambda", LAMBDA_ENVIRONMENT)


def test_built_artifact_matches_the_functions_architecture_and_runtime(artifact: Path) -> None:
    function = sam_template()["Globals"]["Function"]
    assert function["Architectures"] == ["arm64"]
    assert function["Runtime"] == "python" + LAMBDA_ENVIRONMENT["python_version"], "the Lambda lock's Python"
    python_tag = "cpython-" + function["Runtime"].removeprefix("python").replace(".", "")
    shared = list(artifact.rglob("*.so"))
    assert any(p.name.startswith("_pydantic_core") for p in shared), "pydantic-core is compiled: it must be there"
    for library in shared:
        header = library.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", library
        machine = int.from_bytes(header[18:20], "little")
        assert machine == ELF_MACHINE_AARCH64, f"{library.relative_to(artifact)} is not aarch64"
        if ".cpython-" in library.name:
            assert python_tag in library.name, f"{library.name} is not for {function['Runtime']}"
    packaged = artifact / "relaudit" / "checks"
    assert sorted(packaged.glob("*.yaml")), "checks/ must ship inside the package"
