"""ctx.map on run.py's enrichment pool: results in order, a bounded window per unit, errors surface."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from relaudit.inventory.base import CollectorContext
from relaudit.run import windowed_map


def test_results_keep_order_and_in_flight_stays_within_the_window() -> None:
    lock = threading.Lock()
    in_flight = 0
    peak = 0
    release = threading.Event()

    def slow(item: int) -> int:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        release.wait(0.01)
        with lock:
            in_flight -= 1
        return item * item

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(windowed_map(pool, 3)(slow, range(40))) == [i * i for i in range(40)]
    assert 1 <= peak <= 3


def test_an_error_surfaces_at_its_item_and_later_items_are_not_started() -> None:
    started: list[int] = []
    gate = threading.Event()

    def fn(item: int) -> int:
        started.append(item)
        if item == 2:
            raise ValueError("boom")
        gate.wait(1)
        return item

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = windowed_map(pool, 2)(fn, range(100))
        gate.set()
        assert next(results) == 0
        assert next(results) == 1
        with pytest.raises(ValueError, match="boom"):
            next(results)
    assert max(started) < 10  # the window stopped submission long before the end


def test_context_map_defaults_to_sequential_and_takes_the_runs_mapper() -> None:
    ctx = CollectorContext("111122223333", "us-east-1", client=lambda service: None)
    caller = threading.get_ident()
    assert list(ctx.map(lambda item: (item, threading.get_ident() == caller), [1, 2])) == [(1, True), (2, True)]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="enrich") as pool:
        pooled = CollectorContext("111122223333", "us-east-1", client=lambda s: None, mapper=windowed_map(pool, 2))
        names = list(pooled.map(lambda item: threading.current_thread().name, range(4)))
    assert all(name.startswith("enrich") for name in names)
