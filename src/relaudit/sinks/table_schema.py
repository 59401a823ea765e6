"""The DynamoDB findings table's schema: one definition for --create-table and template.yaml.

Single-table design; every key is a string; both GSIs are overloaded (each item kind puts its own
prefix in gsi1pk/gsi2pk):

- current finding: pk ``FINDING#<id>``, sk ``CURRENT``;
  by-scope gsi1pk ``SCOPE#<account>#<region>``, gsi1sk ``<check>#<id>``;
  by-status gsi2pk ``STATUS#<PASSED|FAILED|NOT_APPLICABLE|UNKNOWN|ARCHIVED>``,
  gsi2sk ``<rank>#<account>#<region>#<check>#<id>``.
- history event: pk ``FINDING#<id>``, sk ``HIST#<time>#<event>``;
  by-scope gsi1pk ``RESOURCE#<arn>``, gsi1sk ``<time>#<check>``;
  by-status gsi2pk ``RUN#<run id>``, gsi2sk ``<id>``.
- run record: pk ``RUN#<run id>``, sk ``RUN``; by-scope gsi1pk ``RUNS``, gsi1sk ``<recorded at>#<run id>``.

Access patterns: current findings of an account and region (optionally one check: begins_with on
gsi1sk); current findings by status, most severe first (``<rank>`` is 0 INFORMATIONAL .. 4
CRITICAL; ScanIndexForward=False); one finding's history (pk, begins_with ``HIST#``); one
resource's history across checks (gsi1 ``RESOURCE#<arn>``, an ARN over 1000 bytes is hashed);
the latest runs (gsi1 ``RUNS``, descending) and what one run changed (gsi2 ``RUN#<run id>``).
History items, run records and archived current items carry ``expires_at`` (epoch seconds, the
TTL attribute). See :mod:`relaudit.sinks.dynamodb` for the code that reads and writes them.
"""

from __future__ import annotations

from typing import Any

TTL_ATTRIBUTE = "expires_at"
GSI_BY_SCOPE = "by-scope"
GSI_BY_STATUS = "by-status"

KEY_SCHEMA: list[dict[str, str]] = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS: list[dict[str, str]] = [
    {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")
]
GLOBAL_SECONDARY_INDEXES: list[dict[str, Any]] = [
    {
        "IndexName": GSI_BY_SCOPE,
        "KeySchema": [
            {"AttributeName": "gsi1pk", "KeyType": "HASH"},
            {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
    {
        "IndexName": GSI_BY_STATUS,
        "KeySchema": [
            {"AttributeName": "gsi2pk", "KeyType": "HASH"},
            {"AttributeName": "gsi2sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
]


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments for DynamoDB CreateTable that give the same table template.yaml declares."""
    return {
        "TableName": table_name,
        "KeySchema": KEY_SCHEMA,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "GlobalSecondaryIndexes": GLOBAL_SECONDARY_INDEXES,
        "BillingMode": "PAY_PER_REQUEST",
        "SSESpecification": {"Enabled": True},
        "DeletionProtectionEnabled": True,
    }
