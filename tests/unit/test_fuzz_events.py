"""The Lambda event parser, fuzzed: any JSON in gives a request or one short error naming field and value.

Goes past tests/unit/test_events.py's fuzz test: any top-level JSON value, hostile values for every
field (huge, unicode, deeply nested, out-of-range numbers), oversized lists, fuzzed schedule
environments, and valid requests built at random must always parse.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from relaudit.errors import BadRequestError
from relaudit.events import request_from_event
from relaudit.models.request import REGION_RE, AuditRequest

MAX_MESSAGE = 400  # one clear line, even when the bad value is huge
FIELDS = ("regions", "checks", "sinks", "table", "max_workers")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["us-east-1", "eu-west-1", "rds-db-instance-multi-az", "dynamodb", "securityhub", "16"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
hostile_strings = st.one_of(
    st.text(min_size=1, max_size=50),
    st.text(alphabet="🚀\u202e\x00'\"\\\n ẞ-", min_size=1, max_size=20),
    st.integers(min_value=1000, max_value=20000).map(lambda n: "us-east-1" + "x" * n),
)
region_like = st.from_regex(r"\A[a-z]{2}(-[a-z]{2,9}){1,2}-\d\Z")
check_like = st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,4}\Z")


def assert_clear(error: BadRequestError, prefix: str = "") -> None:
    assert error.field and error.field.startswith(prefix)
    assert error.message
    assert len(str(error)) <= MAX_MESSAGE, f"error is {len(str(error))} chars long"
    assert "\n" not in str(error)


def parse_or_clear_error(event: Any, env: dict[str, str] | None = None) -> AuditRequest | None:
    try:
        return request_from_event(event, env or {})
    except BadRequestError as exc:
        assert_clear(exc)
        return None


@given(json_values)
def test_any_json_value_parses_or_gives_one_clear_error(event: Any) -> None:
    parse_or_clear_error(event)


@given(
    st.dictionaries(
        st.sampled_from([*FIELDS, "region", "Regions", "detail", "detail-type", "source", "x"]) | st.text(max_size=5),
        json_values,
        max_size=6,
    )
)
def test_any_object_with_near_miss_fields(event: dict[str, Any]) -> None:
    request = parse_or_clear_error(event)
    scheduled = event.get("detail-type") == "Scheduled Event" or event.get("source") in ("aws.events", "aws.scheduler")
    if request is not None and not scheduled:
        assert set(event) <= set(FIELDS), "an unknown field must be refused, not ignored"


@given(st.sampled_from(["regions", "checks", "sinks"]), st.lists(hostile_strings, min_size=1, max_size=3))
@example("regions", ["us-east-1", "x" * 100_000])
@example("checks", ["rds-db-instance-multi-az", "'; DROP TABLE findings; --"])
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_hostile_list_items_name_the_field_and_value(field: str, values: list[str]) -> None:
    try:
        request = request_from_event({field: values}, {})
    except BadRequestError as exc:
        assert_clear(exc)
        assert exc.field.split(".")[0] == field
        return
    assert getattr(request, field) == list(dict.fromkeys(values))


@pytest.mark.parametrize(("field", "limit"), [("regions", 64), ("checks", 1000), ("sinks", 2)])
def test_oversized_lists_are_refused_by_name(field: str, limit: int) -> None:
    values = ["us-east-1"] * (limit + 1) if field == "regions" else ["securityhub"] * (limit + 1)
    if field == "checks":
        values = [f"check-{i}" for i in range(limit + 1)]
    with pytest.raises(BadRequestError) as caught:
        request_from_event({field: values}, {})
    assert_clear(caught.value)
    assert caught.value.field == field
    assert str(limit) in caught.value.message


@given(st.one_of(st.integers(), st.floats(), st.text(max_size=10), st.booleans(), st.none()))
def test_max_workers_is_bounded(value: Any) -> None:
    request = parse_or_clear_error({"max_workers": value})
    if request is not None:
        assert 1 <= request.max_workers <= 256


@given(st.lists(region_like, max_size=5), st.lists(check_like, max_size=5))
def test_well_formed_requests_always_parse(regions: list[str], checks: list[str]) -> None:
    request = request_from_event(json.loads(json.dumps({"regions": regions, "checks": checks})), {})
    assert request.regions == list(dict.fromkeys(regions))
    assert request.checks == list(dict.fromkeys(checks))


env_values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-0123456789, _.🚀", max_size=40)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "RELAUDIT_REGIONS": env_values,
            "RELAUDIT_CHECKS": env_values,
            "RELAUDIT_SINKS": env_values,
            "RELAUDIT_TABLE": env_values,
        },
    ),
    st.dictionaries(st.text(max_size=8), json_values, max_size=3),
)
def test_scheduled_events_take_a_fuzzed_environment(env: dict[str, str], junk: dict[str, Any]) -> None:
    event = {**junk, "detail-type": "Scheduled Event", "source": "aws.scheduler"}
    try:
        request_from_event(event, env)
    except BadRequestError as exc:
        assert_clear(exc, prefix="environment ")


@given(json_values)
def test_non_object_events_name_the_type(event: Any) -> None:
    assume(not isinstance(event, dict))
    with pytest.raises(BadRequestError) as caught:
        request_from_event(event, {})
    assert caught.value.field == "event"
    assert type(event).__name__ in caught.value.message


def test_a_json_string_holding_an_object_is_refused_clearly() -> None:
    """A doubly encoded event (a JSON string of an object) is a common client bug: say so."""
    with pytest.raises(BadRequestError) as caught:
        request_from_event(json.dumps({"regions": ["us-east-1"]}), {})
    assert caught.value.field == "event"
    assert "JSON object" in caught.value.message


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"regions": ["us-east-1\n"]}, "regions"),  # "$" would have let the newline through
        ({"checks": ["rds-db-instance-multi-az\n"]}, "checks"),
        ({"regions": ["us-" + "east" * 50 + "-1"]}, "regions"),  # well-formed but no region is that long
        ({"checks": ["a-" * 100 + "b"]}, "checks"),
    ],
)
def test_near_miss_values_are_refused_and_shown_short(event: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        request_from_event(event, {})
    assert_clear(caught.value)
    assert caught.value.field == field
    assert "\\n" in caught.value.message or "..." in caught.value.message


def test_every_region_botocore_knows_is_well_formed() -> None:
    import boto3

    session = boto3.session.Session(region_name="us-east-1")
    regions = {r for p in session.get_available_partitions() for r in session.get_available_regions("ec2", p)}
    assert len(regions) > 30
    assert [r for r in regions if not REGION_RE.match(r)] == []


def test_hostile_field_names_are_quoted_and_cut() -> None:
    with pytest.raises(BadRequestError) as caught:
        request_from_event({"x" * 10_000 + "\n": 1}, {})
    assert_clear(caught.value)
    assert caught.value.message.startswith("unknown field")


def test_a_list_source_is_not_a_schedule_and_no_crash() -> None:
    with pytest.raises(BadRequestError) as caught:
        request_from_event({"source": ["aws.events"]}, {})
    assert caught.value.field == "source"


@settings(max_examples=40, deadline=None)
@given(json_values)
def test_handler_answers_any_bad_event_with_one_structured_error(event: Any) -> None:
    """Through the real handler (Powertools decorators included): no exception, no AWS call."""
    from relaudit.events import is_scheduled
    from relaudit.handlers import handler
    from tests.conftest import FakeLambdaContext

    assume(not (isinstance(event, dict) and is_scheduled(event)))
    try:
        request_from_event(event, {})
    except BadRequestError as expected:
        response = handler(event, FakeLambdaContext())
        assert response == {"status": "error", "error": {"field": expected.field, "message": expected.message}}
        return
    assume(False)  # a valid request would audit: not this test's business
