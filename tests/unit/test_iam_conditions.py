"""IAM condition operators as IAM documents them, property-tested.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relaudit.inventory.iam_conditions import arn_match, block_holds, condition_holds, wildcard_match
from relaudit.inventory.queue_access import grants_send

KEY = "aws:SourceArn"
# Text without IAM's wildcards; brackets included: IAM has no character classes.
plain = st.text(alphabet=string.ascii_letters + string.digits + "-_/.[]!", max_size=12)
segment = st.text(alphabet=string.ascii_lowercase + string.digits + "-/", min_size=1, max_size=8)
arns = st.builds(lambda parts: "arn:" + ":".join(parts), st.lists(segment, min_size=5, max_size=5))

POSITIVE = ["StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike"]
NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def holds(operator: str, values: object, actual: str | list[str] | None) -> bool | None:
    context = {} if actual is None else {KEY.lower(): actual}
    return condition_holds(operator, KEY, values, context)


@given(value=plain, other=plain)
def test_like_without_wildcards_is_equals(value: str, other: str) -> None:
    assert holds("StringLike", other, value) == holds("StringEquals", other, value) == (value == other)


@given(value=plain, data=st.data())
def test_question_mark_is_one_character_and_star_any_run(value: str, data: st.DataObject) -> None:
    positions = data.draw(st.sets(st.integers(0, max(len(value) - 1, 0))))
    masked = "".join("?" if i in positions else c for i, c in enumerate(value))
    assert wildcard_match(masked, value)
    assert not wildcard_match(masked + "?", value)
    cut = data.draw(st.integers(0, len(value)))
    assert wildcard_match(value[:cut] + "*", value)
    assert wildcard_match("*", value)


def test_brackets_are_literal() -> None:
    assert holds("StringLike", "queue[1]", "queue[1]") is True
    assert holds("StringLike", "queue[12]", "queue1") is False


@given(value=plain, other=plain, operator=st.sampled_from(sorted(NEGATED)))
def test_negated_operator_is_the_opposite_on_a_present_key(value: str, other: str, operator: str) -> None:
    assert holds(operator, other, value) is (not holds(NEGATED[operator], other, value))


@given(other=plain, operator=st.sampled_from(POSITIVE))
def test_missing_key_fails_a_positive_operator_and_passes_if_exists(other: str, operator: str) -> None:
    assert holds(operator, other, None) is False
    assert holds(f"{operator}IfExists", other, None) is True


@given(other=plain, operator=st.sampled_from(sorted(NEGATED)))
def test_missing_key_passes_a_negated_operator(other: str, operator: str) -> None:
    assert holds(operator, other, None) is True


@given(value=plain, other=plain, operator=st.sampled_from(POSITIVE + sorted(NEGATED)))
def test_if_exists_on_a_present_key_is_the_plain_operator(value: str, other: str, operator: str) -> None:
    assert holds(f"{operator}IfExists", other, value) == holds(operator, other, value)


@given(values=st.lists(plain, min_size=1, max_size=4), value=plain)
def test_policy_values_are_ored(values: list[str], value: str) -> None:
    assert holds("StringEquals", values, value) is (value in values)
    assert holds("StringNotEquals", values, value) is (value not in values)


@given(value=plain)
def test_case(value: str) -> None:
    assert holds("StringEqualsIgnoreCase", value.upper(), value.lower()) is True
    assert holds("StringEquals", value.upper(), value.lower()) is (value.upper() == value.lower())


@given(arn=arns)
def test_arn_equals_takes_wildcards_like_arn_like(arn: str) -> None:
    parts = arn.split(":")
    for index in range(1, 6):
        pattern = ":".join([*parts[:index], "*", *parts[index + 1 :]])
        assert holds("ArnEquals", pattern, arn) is True
        assert holds("ArnLike", pattern, arn) is True
    assert holds("ArnEquals", arn, arn) is True


@given(arn=arns)
def test_arn_wildcard_never_spans_a_colon(arn: str) -> None:
    prefix = ":".join(arn.split(":")[:3])
    assert not arn_match(prefix + ":*", arn), "three parts and a star are not six parts"
    assert wildcard_match(prefix + ":*", arn), "StringLike's star does span colons"
    assert holds("ArnLike", "*", arn) is False
    assert holds("StringLike", "*", arn) is True


def test_arn_match_is_case_sensitive() -> None:
    arn = "arn:aws:events:us-east-1:111122223333:rule/Nightly"
    assert holds("ArnLike", arn.lower(), arn) is False


@given(values=st.lists(plain, max_size=4), allowed=st.lists(plain, min_size=1, max_size=3))
def test_set_operators(values: list[str], allowed: list[str]) -> None:
    every = all(v in allowed for v in values)
    some = any(v in allowed for v in values)
    assert holds("ForAllValues:StringEquals", allowed, values) is every
    assert holds("ForAnyValue:StringEquals", allowed, values) is some
    assert holds("ForAllValues:StringNotEquals", allowed, values) is all(v not in allowed for v in values)
    assert holds("ForAnyValue:StringNotEquals", allowed, values) is any(v not in allowed for v in values)


@given(allowed=st.lists(plain, min_size=1, max_size=3))
def test_set_operators_on_a_missing_key(allowed: list[str]) -> None:
    assert holds("ForAllValues:StringEquals", allowed, None) is True, "vacuously true: IAM's documented trap"
    assert holds("ForAnyValue:StringEquals", allowed, None) is False
    assert holds("ForAnyValue:StringEqualsIfExists", allowed, None) is True


@given(value=st.one_of(st.none(), plain))
def test_null(value: str | None) -> None:
    absent = value is None
    assert holds("Null", "true", value) is absent
    assert holds("Null", "false", value) is (not absent)
    assert holds("Null", True, value) is absent, "a JSON boolean reads as its string"


@given(a=st.integers(-1000, 1000), b=st.integers(-1000, 1000))
def test_numeric(a: int, b: int) -> None:
    assert holds("NumericLessThan", str(b), str(a)) is (a < b)
    assert holds("NumericGreaterThanEquals", b, str(a)) is (a >= b)
    assert holds("NumericNotEquals", str(b), str(a)) is (a != b)
    assert holds("NumericEquals", "x", str(a)) is False


def test_dates_bool_and_ip() -> None:
    assert holds("DateLessThan", "2030-01-01T00:00:00Z", "2026-12-07T01:00:00Z") is True
    assert holds("DateGreaterThan", "2030-01-01T00:00:00Z", "1700000000") is False
    assert holds("Bool", True, "true") is True
    assert holds("Bool", "false", "true") is False
    assert holds("IpAddress", "10.0.0.0/8", "10.1.2.3") is True
    assert holds("NotIpAddress", "10.0.0.0/8", "10.1.2.3") is False


@pytest.mark.parametrize(
    "operator",
    ["StringMatches", "ForSomeValues:StringEquals", "StringEquals"],
)
def test_what_relaudit_cannot_decide_is_none(operator: str) -> None:
    values = "${aws:PrincipalAccount}" if operator == "StringEquals" else "x"
    assert holds(operator, values, "x") is None


def test_unknown_keys_leave_a_block_undecided_and_a_false_condition_decides() -> None:
    context = {"aws:sourcearn": "arn:aws:sns:us-east-1:111122223333:orders"}
    known = {"aws:sourcearn"}
    undecided = {"StringEquals": {"aws:SourceOrgID": "o-1"}}
    assert block_holds(undecided, context, known) is None
    wrong = {**undecided, "ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:other"}}
    assert block_holds(wrong, context, known) is False
    assert block_holds({}, context, known) is True


def _policy(condition: dict[str, object]) -> dict[str, object]:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "SQS:SendMessage",
        "Resource": "*",
        "Condition": condition,
    }
    return {"Statement": [statement]}


RULE = "arn:aws:events:us-east-1:111122223333:rule/nightly"


@pytest.mark.parametrize(
    ("condition", "allowed"),
    [
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/*"}}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:111122223333:rule/night?y"}}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:events:us-east-1:*"}}, False),  # five parts: matches no ARN
        ({"StringEquals": {"aws:SourceAccount": "111122223333"}}, True),
        ({"StringEquals": {"aws:SourceAccount": "444455556666"}}, False),
        ({"ArnNotEquals": {"aws:SourceArn": RULE}}, False),
        ({"StringEquals": {"aws:SourceOrgID": "o-abc"}}, True),  # undecided: no false alarm
        ({"Null": {"aws:SourceArn": "true"}}, False),
    ],
)
def test_queue_policy_delivery(condition: dict[str, object], allowed: bool) -> None:
    assert grants_send(_policy(condition), "events.amazonaws.com", RULE, "111122223333") is allowed
