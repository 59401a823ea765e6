"""The normalized resource document that collectors produce and checks read."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# The reserved property mapping each top-level property a collector could not read for this one
# resource to why (say, KmsAccessDeniedException on DescribeStateMachine). Every check reading
# one of them is UNKNOWN for the resource; the others are judged as usual.
UNAVAILABLE = "_unavailable"


class ResourceDocument(BaseModel):
    """One resource: an envelope (where and what it is) and its JSON-safe properties."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str
    region: str
    resource_type: str
    arn: str
    name: str
    properties: dict[str, Any]
