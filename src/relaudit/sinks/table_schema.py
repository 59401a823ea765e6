"""The DynamoDB findings table's schema: one definition for --create-table and template.yaml.

Single-table design (keys are strings):

- current finding: pk ``FINDING#<id>``, sk ``CURRENT``; gsi1 (by scope): gsi1pk
  ``SCOPE#<account>#<region>``, gsi1sk ``<check_id>#<id>``.
- history event: pk ``FINDING#<id>``, sk ``HIST#<iso time>#<status>``.
- run record: pk ``RUN#<run_id>``, sk ``RUN``.

gsi2 (by status): gsi2pk ``STATUS#<status>``, gsi2sk ``<severity rank>#<account>#<region>#<check_id>#<id>``,
set on current findings only. History items carry ``expires_at`` (epoch seconds, the TTL attribute).
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
        "DeletionProtectionEnabled": False,
    }
