"""The Lambda artifact: checks/ ships inside the package where the loader looks, and wheels are aarch64."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.template_support import sam_template

BUILT = ROOT / ".aws-sam" / "build" / "AuditFunction"
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


@pytest.mark.skipif(not BUILT.is_dir(), reason="no `make build` output (.aws-sam/build) to inspect")
def test_built_artifact_matches_the_functions_architecture_and_runtime() -> None:
    function = sam_template()["Globals"]["Function"]
    assert function["Architectures"] == ["arm64"]
    python_tag = "cpython-" + function["Runtime"].removeprefix("python").replace(".", "")
    shared = list(BUILT.rglob("*.so"))
    assert any(p.name.startswith("_pydantic_core") for p in shared), "pydantic-core is compiled: it must be there"
    for library in shared:
        header = library.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", library
        machine = int.from_bytes(header[18:20], "little")
        assert machine == ELF_MACHINE_AARCH64, f"{library.relative_to(BUILT)} is not aarch64: run make build"
        if ".cpython-" in library.name:
            assert python_tag in library.name, f"{library.name} is not for {function['Runtime']}: run make build"
    packaged = BUILT / "relaudit" / "checks"
    assert sorted(packaged.glob("*.yaml")), "checks/ must ship inside the package"
