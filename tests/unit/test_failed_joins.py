"""A collector's failed joins become one failure per join, naming every field it fills."""

from __future__ import annotations

from relaudit.inventory.base import CollectorContext, IncompleteUnitError, failed_joins, mark_unavailable


def _ctx() -> CollectorContext:
    return CollectorContext("123456789012", "us-east-1", lambda service: None)


def test_one_refusal_shared_by_two_joins_is_one_join_with_derived_fields() -> None:
    ctx = _ctx()
    refused = RuntimeError("ListFunctions refused")
    ctx.enrichment_failed("DeadLetterSources", refused)
    ctx.enrichment_failed("ConsumerFunctions", refused)
    [join] = failed_joins(ctx.incomplete)
    assert join.fields == {"DeadLetterSources", "IsDeadLetterQueue", "ConsumerFunctions", "ConsumerTimeoutMultiple"}
    assert join.error is refused


def test_a_per_resource_join_failing_many_times_counts_once_and_fields_named_together_stay_together() -> None:
    ctx = _ctx()
    for n in range(3):
        ctx.enrichment_failed("Triggers", RuntimeError(f"GetPolicy {n} denied"))
    ctx.enrichment_failed(("Definition", "DefinitionSummary"), RuntimeError("KMS"))
    joins = {join.fields: str(join.error) for join in failed_joins(ctx.incomplete)}
    assert joins == {
        frozenset({"Triggers"}): "GetPolicy 0 denied",
        frozenset({"Definition", "DefinitionSummary"}): "KMS",
    }
    error = IncompleteUnitError([], ctx.incomplete)
    assert error.field_name == "Triggers" and len(error.joins) == 2


def test_mark_unavailable_records_why_per_property() -> None:
    properties: dict[str, object] = {"Name": "m"}
    mark_unavailable(properties, "Definition", "KmsAccessDeniedException on DescribeStateMachine")
    mark_unavailable(properties, "LoggingConfiguration", "throttled")
    assert properties["_unavailable"] == {
        "Definition": "KmsAccessDeniedException on DescribeStateMachine",
        "LoggingConfiguration": "throttled",
    }
