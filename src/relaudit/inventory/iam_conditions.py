"""IAM policy ``Condition`` blocks evaluated as IAM evaluates them, against a known request context.

Semantics (IAM User Guide, "IAM JSON policy elements: Condition operators" and "Multivalued
context keys"):
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

- Condition keys are case-insensitive; the values of a key are ORed, the keys and operators of a
  block are ANDed.
- A key missing from the request context: the condition is false, except for negated matching
  operators (``StringNotEquals``, ``ArnNotLike``, ...), which are true, ``...IfExists``, which is
  true, and ``Null``, which tests exactly that.
- ``StringLike`` and the ARN operators take ``*`` (any run of characters) and ``?`` (one
  character) and nothing else: ``[`` is literal (unlike shell globs). ``ArnEquals`` and ``ArnLike``
  are the same operator: each of the six colon-separated parts of the ARN is matched on its own,
  so a wildcard never spans a colon, and matching is case-sensitive.
- ``ForAnyValue:`` is true when some value of a multivalued key satisfies the operator (false for
  a missing or empty key); ``ForAllValues:`` when every value does (true for a missing or empty key).

What relaudit cannot decide, it says: an operator it does not know, a policy variable (``${...}``)
in a value, or a key outside the context it was told it knows completely evaluate to None, and the
caller chooses how lenient to be.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import operator as op
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

ContextValue = str | list[str]
_ARN_PARTS = 6


@lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's ``*``/``?`` matching of a whole string (no character classes)."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, arn: str) -> bool:
    """ArnLike/ArnEquals: the six parts of both ARNs matched one by one, case-sensitive."""
    wanted = pattern.split(":", _ARN_PARTS - 1)
    actual = arn.split(":", _ARN_PARTS - 1)
    if len(wanted) != _ARN_PARTS or len(actual) != _ARN_PARTS:
        return False
    return all(wildcard_match(w, a) for w, a in zip(wanted, actual, strict=True))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> dt.datetime | None:
    number = _number(text)
    if number is not None:
        return dt.datetime.fromtimestamp(number, dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _ordered(parse: Callable[[str], Any], test: Callable[[Any, Any], bool]) -> Callable[[str, str], bool]:
    def compare(actual: str, wanted: str) -> bool:
        left, right = parse(actual), parse(wanted)
        return left is not None and right is not None and bool(test(left, right))

    return compare


def _in_network(actual: str, wanted: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(wanted, strict=False)
    except ValueError:
        return False


# Positive operators, lower-cased: (matches one context value against one policy value).
_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "stringequals": lambda a, w: a == w,
    "stringequalsignorecase": lambda a, w: a.casefold() == w.casefold(),
    "stringlike": lambda a, w: wildcard_match(w, a),
    "arnequals": lambda a, w: arn_match(w, a),
    "arnlike": lambda a, w: arn_match(w, a),
    "numericequals": _ordered(_number, op.eq),
    "numericlessthan": _ordered(_number, op.lt),
    "numericlessthanequals": _ordered(_number, op.le),
    "numericgreaterthan": _ordered(_number, op.gt),
    "numericgreaterthanequals": _ordered(_number, op.ge),
    "dateequals": _ordered(_date, op.eq),
    "datelessthan": _ordered(_date, op.lt),
    "datelessthanequals": _ordered(_date, op.le),
    "dategreaterthan": _ordered(_date, op.gt),
    "dategreaterthanequals": _ordered(_date, op.ge),
    "bool": lambda a, w: a.lower() == w.lower(),
    "binaryequals": lambda a, w: a == w,
    "ipaddress": _in_network,
}
# Negated operators: true when the value matches none of the policy's values.
_NEGATED = {
    "stringnotequals": "stringequals",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "stringnotlike": "stringlike",
    "arnnotequals": "arnequals",
    "arnnotlike": "arnlike",
    "numericnotequals": "numericequals",
    "datenotequals": "dateequals",
    "notipaddress": "ipaddress",
}


def _parse_operator(operator: str) -> tuple[str | None, str, bool]:
    """``ForAllValues:StringLikeIfExists`` -> (``forallvalues``, ``stringlike``, True)."""
    qualifier, _, name = operator.lower().rpartition(":")
    if_exists = name.endswith("ifexists") and name != "null"
    base = name.removesuffix("ifexists") if if_exists else name
    return (qualifier or None), base, if_exists


def _values(value: Any) -> list[str] | None:
    """A condition's values as strings (JSON booleans and numbers as IAM reads them); None when
    one is not a scalar."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
        else:
            return None
    return out


def condition_holds(operator: str, key: str, value: Any, context: Mapping[str, ContextValue]) -> bool | None:
    """One ``operator: {key: value}`` entry against ``context`` (lower-cased keys; a missing key is
    absent from the request). None when relaudit cannot evaluate it."""
    qualifier, base, if_exists = _parse_operator(operator)
    wanted = _values(value)
    if wanted is None or qualifier not in (None, "forallvalues", "foranyvalue"):
        return None
    if any("${" in w for w in wanted):
        return None  # a policy variable: its value is not known here
    actual = context.get(key.lower())
    if base == "null":
        return any((actual is None) == (w.lower() == "true") for w in wanted) if qualifier is None else None
    negated = base in _NEGATED
    matcher = _MATCHERS.get(_NEGATED.get(base, base))
    if matcher is None:
        return None

    def satisfied(one: str) -> bool:
        matched = any(matcher(one, w) for w in wanted)
        return not matched if negated else matched

    if qualifier is not None:
        values = [] if actual is None else (actual if isinstance(actual, list) else [actual])
        if not values:
            return True if if_exists else qualifier == "forallvalues"
        check = all if qualifier == "forallvalues" else any
        return check(satisfied(one) for one in values)
    if actual is None:
        return if_exists or negated
    if isinstance(actual, list):  # a multivalued key under a single-valued operator: any value
        return any(satisfied(one) for one in actual)
    return satisfied(actual)


def block_holds(conditions: Any, context: Mapping[str, ContextValue], known: Collection[str]) -> bool | None:
    """A statement's whole ``Condition`` block: True, False, or None when it turns on something
    relaudit cannot evaluate. ``known``: the lower-cased keys whose presence or absence in
    ``context`` is certain; a condition on any other key is undecided."""
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return None
    verdict: bool | None = True
    for operator, entries in conditions.items():
        if not isinstance(entries, dict):
            return None
        for key, value in entries.items():
            result = condition_holds(str(operator), str(key), value, context) if key.lower() in known else None
            if result is False:
                return False
            if result is None:
                verdict = None
    return verdict
