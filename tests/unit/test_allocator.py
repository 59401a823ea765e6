"""glibc malloc settings: applied where glibc is, the environment's own settings left alone, no-op elsewhere."""

from __future__ import annotations

import ctypes
import os
import platform
import subprocess
import sys

import pytest

from relaudit import allocator

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_both_settings_are_applied_under_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert allocator.tune_malloc() == ["MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"]


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_a_setting_the_environment_makes_is_not_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert allocator.tune_malloc() == ["MALLOC_MMAP_THRESHOLD_"]


def test_nothing_is_changed_without_mallopt(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoMallopt:  # a C library without mallopt, as on macOS
        def __init__(self, name: object) -> None:
            pass

    monkeypatch.setattr(ctypes, "CDLL", NoMallopt)
    assert allocator.tune_malloc() == []


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_freed_large_blocks_leave_the_process() -> None:
    """What the mmap threshold buys: after a large block is freed, the next ones are still unmapped on
    free. glibc's default raises the threshold at the first such free, so the next blocks come from
    the heap and stay resident while anything above them lives."""
    script = """
import ctypes, sys
from relaudit.allocator import tune_malloc
if sys.argv[1] == "tuned":
    tune_malloc()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 // 2**20
first = bytearray(1 << 20); del first  # raises glibc's threshold to 1 MB unless it is fixed
base = rss()
blocks, pins = [], []
for _ in range(200):
    blocks.append(bytearray(512 * 1024))
    pins.append(bytearray(1024))  # live objects above each block (malloc, not pymalloc) pin the heap
del blocks
print(rss() - base)
"""
    env = {**os.environ, "PYTHONMALLOC": "pymalloc"}
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    held = {}
    for mode in ("default", "tuned"):
        done = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, env=env, check=True)
        held[mode] = int(done.stdout)
    assert held["tuned"] < 10 <= held["default"], held
