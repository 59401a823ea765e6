"""Lambda events become requests; bad events name the field, never raise a raw traceback."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaudit.errors import BadRequestError
from relaudit.events import request_from_event
from tests.conftest import load_event


def test_scheduled_event_takes_scope_from_environment() -> None:
    env = {"RELAUDIT_REGIONS": "us-east-1, eu-west-1", "RELAUDIT_CHECKS": "", "RELAUDIT_TABLE": "findings"}
    request = request_from_event(load_event("scheduled"), env)
    assert request.regions == ["us-east-1", "eu-west-1"]
    assert request.checks == []
    assert request.table == "findings"


def test_scheduled_event_with_bad_environment_names_it() -> None:
    with pytest.raises(BadRequestError) as caught:
        request_from_event(load_event("scheduled"), {"RELAUDIT_REGIONS": "mars-1"})
    assert caught.value.field == "environment regions"
    assert "mars-1" in caught.value.message


def test_on_demand_events() -> None:
    assert request_from_event(load_event("on-demand"), {}).regions == []
    one = request_from_event(load_event("on-demand-one-check"), {})
    assert one.regions == ["us-east-1"]
    assert one.checks == ["rds-db-instance-multi-az", "sqs-queue-redrive-policy-configured"]


@pytest.mark.parametrize(
    ("event", "field", "fragment"),
    [
        ({"regions": ["us-east-1", "nowhere"]}, "regions", "'nowhere' is not a region"),
        ({"regions": "us-east-1"}, "regions", "(got 'us-east-1')"),
        ({"checks": ["Bad_Id"]}, "checks", "not a check id"),
        ({"region": ["us-east-1"]}, "region", "unknown field"),
        ({"sinks": ["email"]}, "sinks.0", "'securityhub' or 'dynamodb'"),
        ({"max_workers": 0}, "max_workers", "(got 0)"),
        ({"regions": ["us-east-1"] * 65}, "regions", "(got ['us-east-1', "),
    ],
)
def test_bad_event_names_field(event: dict[str, object], field: str, fragment: str) -> None:
    """The field and the bad value, in relaudit's words (pydantic's own wording is not asserted)."""
    with pytest.raises(BadRequestError) as caught:
        request_from_event(event, {})
    assert caught.value.field == field
    assert fragment in caught.value.message


def test_non_object_event() -> None:
    with pytest.raises(BadRequestError, match="must be a JSON object"):
        request_from_event(["us-east-1"], {})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["regions", "checks", "sinks", "table", "max_workers", "x"]), json_values))
def test_fuzzed_events_either_parse_or_raise_bad_request(event: dict[str, object]) -> None:
    try:
        request_from_event(event, {})
    except BadRequestError as exc:
        assert exc.field
