"""Read the hashed locks in requirements/ (what `make lock` writes) for the tests that hold them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import NormalizedName, canonicalize_name

from tests.conftest import ROOT

LOCKS = ROOT / "requirements"
# `name==version ; marker \` opens an entry; its --hash lines and `# via` comments follow, indented.
_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)


@dataclass(frozen=True)
class Pin:
    name: NormalizedName
    version: str
    marker: Marker | None
    hashes: int

    def applies(self, environment: dict[str, str] | None = None) -> bool:
        return self.marker is None or self.marker.evaluate(environment)


def read_lock(name: str) -> list[Pin]:
    """Every pin of ``requirements/<name>.txt``; a line that is neither a pin nor its hashes fails."""
    pins: list[Pin] = []
    for number, line in enumerate((LOCKS / f"{name}.txt").read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("--hash=sha256:"):
            assert pins, f"{name}.txt:{number}: a hash before any pin"
            last = pins[-1]
            pins[-1] = Pin(last.name, last.version, last.marker, last.hashes + 1)
            continue
        match = _PIN.match(stripped)
        assert match, f"{name}.txt:{number}: not a pinned requirement: {stripped}"
        marker = Marker(match["marker"]) if match["marker"] else None
        pins.append(Pin(canonicalize_name(match["name"]), match["version"], marker, 0))
    return pins


def pinned(name: str, environment: dict[str, str] | None = None) -> dict[NormalizedName, str]:
    """The versions ``requirements/<name>.txt`` installs into ``environment`` (default: this interpreter)."""
    return {pin.name: pin.version for pin in read_lock(name) if pin.applies(environment)}


# The Lambda function's environment (template.yaml: python3.13, arm64), for the Lambda lock's markers.
LAMBDA_ENVIRONMENT = {
    "implementation_name": "cpython",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.13.0",
    "python_version": "3.13",
    "sys_platform": "linux",
    "os_name": "posix",
}


def lock_path(name: str) -> Path:
    return LOCKS / f"{name}.txt"
