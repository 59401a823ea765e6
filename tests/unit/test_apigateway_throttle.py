"""Which REST stage throttle a stage set itself, and what a method or route admits at once
(relaudit.inventory.apigateway_throttle)."""

from __future__ import annotations

import pytest

from relaudit.inventory.apigateway_throttle import admitted_burst, own_burst, own_rate

DEFAULT = {"rateLimit": 10000.0, "burstLimit": 5000}
RAISED = {"rateLimit": 20000.0, "burstLimit": 8000}


@pytest.mark.parametrize(
    ("setting", "account", "rate"),
    [
        ({"throttlingRateLimit": 500.0, "throttlingBurstLimit": 100}, DEFAULT, 500.0),
        ({"throttlingRateLimit": 10000.0, "throttlingBurstLimit": 5000}, DEFAULT, None),  # written in by AWS
        ({"throttlingRateLimit": 20000.0, "throttlingBurstLimit": 8000}, RAISED, None),  # a raised account's
        # written before the account's quota was raised: AWS's default pair is still inherited
        ({"throttlingRateLimit": 10000.0, "throttlingBurstLimit": 5000}, RAISED, None),
        ({"throttlingRateLimit": 10000.0, "throttlingBurstLimit": 100}, RAISED, 10000.0),
        ({"throttlingRateLimit": 12000.0, "throttlingBurstLimit": 100}, DEFAULT, None),  # limits nothing
        ({"throttlingRateLimit": -1.0, "throttlingBurstLimit": -1}, DEFAULT, None),  # "not set"
        ({"loggingLevel": "INFO"}, DEFAULT, None),
        (None, DEFAULT, None),
        ({"throttlingRateLimit": 300.0}, {}, 300.0),  # GetAccount without throttleSettings
    ],
)
def test_own_rate(setting: dict[str, object] | None, account: dict[str, object], rate: float | None) -> None:
    assert own_rate(setting, account) == rate


@pytest.mark.parametrize(
    ("setting", "account", "burst"),
    [
        ({"throttlingRateLimit": 500.0, "throttlingBurstLimit": 100}, DEFAULT, 100),
        ({"throttlingRateLimit": 10000.0, "throttlingBurstLimit": 5000}, DEFAULT, None),  # written in by AWS
        ({"throttlingRateLimit": 10000.0, "throttlingBurstLimit": 5000}, RAISED, None),  # AWS's default pair
        (
            {"throttlingRateLimit": 12000.0, "throttlingBurstLimit": 100},
            DEFAULT,
            100,
        ),  # the rate limits nothing, the burst does
        ({"throttlingRateLimit": -1.0, "throttlingBurstLimit": -1}, DEFAULT, None),  # "not set"
        ({"throttlingBurstLimit": 0}, DEFAULT, None),
        ({"loggingLevel": "INFO"}, DEFAULT, None),
        (None, DEFAULT, None),
    ],
)
def test_own_burst(setting: dict[str, object] | None, account: dict[str, object], burst: int | None) -> None:
    assert own_burst(setting, account) == burst


@pytest.mark.parametrize(
    ("bursts", "account", "admitted"),
    [
        ([30, 100], DEFAULT, 30),  # the route's own before the stage default's
        ([None, 100], DEFAULT, 100),
        ([-1, 0, None], DEFAULT, 5000),  # none set: the account's
        ([9000], DEFAULT, 5000),  # no more than the account's
        ([9000], RAISED, 8000),
        ([True], DEFAULT, 5000),  # a boolean is not a limit
        ([], {}, None),  # GetAccount without throttleSettings
        ([40], {}, 40),
    ],
)
def test_admitted_burst(bursts: list[object], account: dict[str, object], admitted: int | None) -> None:
    assert admitted_burst(bursts, account) == admitted
