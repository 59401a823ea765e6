"""The locks in requirements/ hold what pyproject.toml asks for, and this venv holds exactly the dev lock.

`make lock` writes the locks; these tests fail when pyproject.toml changes without it (a requirement
the lock does not pin, or pins outside its range) and when an install drifted from the lock.
"""

from __future__ import annotations

import tomllib
from collections import deque
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from tests.conftest import ROOT
from tests.support.locks import LAMBDA_ENVIRONMENT, LOCKS, pinned, read_lock

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
TOOLS = [
    Requirement(line)
    for line in (LOCKS / "tools.in").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
DEV = [
    *RUNTIME,
    *(Requirement(text) for extra in ("dev", "demo") for text in EXTRAS[extra]),
    *(Requirement(text) for text in PYPROJECT["build-system"]["requires"]),
    *TOOLS,
]


def _closure(roots: list[Requirement], environment: dict[str, str]) -> dict[NormalizedName, Requirement]:
    """Every requirement reachable from ``roots`` (extras included) through the installed metadata."""
    reached: dict[NormalizedName, Requirement] = {}
    queue = deque((requirement, "") for requirement in roots)
    seen: set[tuple[NormalizedName, str]] = set()
    while queue:
        requirement, via_extra = queue.popleft()
        if requirement.marker and not requirement.marker.evaluate({**environment, "extra": via_extra}):
            continue
        name = canonicalize_name(requirement.name)
        reached.setdefault(name, requirement)
        for extra in ["", *sorted(requirement.extras)]:
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            try:
                requires = metadata.requires(name) or []
            except metadata.PackageNotFoundError:  # not installed: the pin checks name it
                break
            queue.extend((Requirement(text), extra) for text in requires)
    return reached


@pytest.mark.parametrize("lock", ["dev", "lambda", "sam"])
def test_every_pin_carries_its_hashes(lock: str) -> None:
    pins = read_lock(lock)
    assert pins
    assert [pin.name for pin in pins if pin.hashes == 0] == []


def test_the_dev_lock_pins_every_requirement_of_pyproject_within_its_range() -> None:
    locked = pinned("dev")
    for name, requirement in _closure(DEV, {}).items():
        assert name in locked, f"{requirement} is not in requirements/dev.txt: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements/dev.txt pins {name}=={locked[name]}, outside {requirement}: run `make lock`"
        )


def test_the_lambda_lock_is_the_runtime_closure_at_the_dev_locks_versions() -> None:
    """Nothing of dev or demo reaches the function, and it runs the versions the tests ran."""
    locked = pinned("lambda", LAMBDA_ENVIRONMENT)
    closure = _closure(RUNTIME, LAMBDA_ENVIRONMENT)
    assert set(locked) == set(closure), "requirements/lambda.txt is not pyproject's runtime closure: run `make lock`"
    for name, requirement in closure.items():
        assert requirement.specifier.contains(locked[name], prereleases=True), f"{name}=={locked[name]}"
    dev = pinned("dev", LAMBDA_ENVIRONMENT)
    assert {name: dev[name] for name in locked} == locked


def test_this_venv_holds_exactly_the_dev_lock() -> None:
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
        if canonicalize_name(dist.metadata["Name"]) != "relaudit"
    }
    locked = pinned("dev")
    assert {name: version for name, version in installed.items() if locked.get(name) != version} == {}, (
        "installed versions differ from requirements/dev.txt: run `make install`"
    )
    assert set(locked) - set(installed) == set()
