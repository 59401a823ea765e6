"""The organization model (tests/bench/org_model.py): its totals match the reference, its bounds behave.

Reference §7.2 (200 accounts like §7.1's): about 382 k reads and 800 k findings; one process
cannot finish inside 900 s; the fan-out's floor is the slowest account plus the sinks.
"""

from __future__ import annotations

import math

from relaudit.ratelimit import buckets_for
from tests.bench import org_model as m


def test_the_uniform_fleet_matches_the_reference_totals() -> None:
    items = [m.item_model(a, r) for a in m.fleet("uniform") for r in range(m.REGIONS)]
    assert len(items) == 3400
    assert 0.95 * 382_000 < sum(i.calls for i in items) < 1.05 * 382_000
    assert 0.95 * 800_000 < sum(i.findings for i in items) < 1.05 * 822_800


def test_the_fan_out_finishes_in_minutes_and_one_process_does_not_fit_a_lambda() -> None:
    for kind in ("uniform", "mixed"):
        accounts = m.fleet(kind)
        items = [m.item_model(a, r) for a in accounts for r in range(m.REGIONS)]
        fan_out = m.fan_out(items, len(accounts), 40)
        assert fan_out.seconds < m.LAMBDA_LIMIT, kind
        for threads in (16, 64):
            assert m.single_process(items, threads).seconds > 3 * fan_out.seconds, kind
        assert all(i.seconds < m.LAMBDA_LIMIT for i in items), "every item fits one invocation"


def test_more_concurrency_never_beats_the_slowest_item_nor_the_table() -> None:
    accounts = m.fleet("mixed")
    items = [m.item_model(a, r) for a in accounts for r in range(m.REGIONS)]
    slowest = max(i.seconds for i in items)
    times = [m.fan_out(items, len(accounts), c, m.WARM_TABLE_WRU_PER_SECOND).seconds for c in (40, 200, 800, 3400)]
    assert times == sorted(times, reverse=True)
    assert times[-1] >= slowest + m.COLD_START, "T_rate does not fall as concurrency rises (§6)"
    table = sum(i.findings for i in items) * m.WRU_PER_FINDING / m.TABLE_WRU_PER_SECOND
    assert m.fan_out(items, len(accounts), 3400).seconds >= table


def test_an_items_rate_bound_is_its_busiest_bucket_at_the_auditors_own_rates() -> None:
    big = m.Account("100000000000", 20_000, tuple(1.0 if r == 0 else 0.0 for r in range(m.REGIONS)), 1.0)
    item = m.item_model(big, 0)
    assert item.bucket == "lambda:control-plane" and item.read_bound == "rate"
    functions = round(20_000 * m.MIX["functions"][0] / m.MIX_TOTAL)
    calls = math.ceil(functions / 50) + functions  # ListFunctions pages + ListFunctionEventInvokeConfigs
    [bucket] = buckets_for("lambda", "ListFunctionEventInvokeConfigs")
    assert math.isclose(item.t_rate, (calls - bucket.rate.burst) / bucket.rate.per_second)
