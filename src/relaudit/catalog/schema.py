"""Print the JSON Schema of a check file (`make docs` writes it to checks/check.schema.json)."""

from __future__ import annotations

import json

from relaudit.models.check import CheckDefinition


def schema_json() -> str:
    """The check file JSON Schema, as written to checks/check.schema.json."""
    return json.dumps(CheckDefinition.model_json_schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(schema_json(), end="")
