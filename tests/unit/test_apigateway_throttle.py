"""Which REST stage throttle a stage set itself (relaudit.inventory.apigateway_throttle)."""

from __future__ import annotations

import pytest

from relaudit.inventory.apigateway_throttle import own_rate

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
