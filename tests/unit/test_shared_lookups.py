"""SharedLookups: one loader call per key however many collectors ask at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from relaudit.inventory.base import SharedLookups


def test_concurrent_callers_of_one_key_share_one_load() -> None:
    lookups = SharedLookups()
    calls: list[int] = []
    started = threading.Event()
    release = threading.Event()

    def slow_load() -> list[str]:
        calls.append(1)
        started.set()
        release.wait(5)
        return ["fn-a", "fn-b"]

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(lookups.get, ("lambda", "functions"), slow_load) for _ in range(8)]
        assert started.wait(5)
        release.set()
        results = [future.result(5) for future in futures]
    assert len(calls) == 1
    assert all(result is results[0] for result in results)


def test_an_error_reaches_every_caller_and_is_not_retried() -> None:
    lookups = SharedLookups()
    calls: list[int] = []

    def refused() -> None:
        calls.append(1)
        raise PermissionError("AccessDenied")

    for _ in range(3):
        with pytest.raises(PermissionError, match="AccessDenied"):
            lookups.get("alarms", refused)
    assert len(calls) == 1


def test_keys_are_independent() -> None:
    lookups = SharedLookups()
    assert lookups.get(("stages", "a"), lambda: 1) == 1
    assert lookups.get(("stages", "b"), lambda: 2) == 2
    assert lookups.get(("stages", "a"), lambda: 3) == 1
    assert len(lookups) == 2
