"""Coverage gaps: what an audit could not read, and why."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# A gap's region or resource_type when the whole scope could not be read: an account whose role
# could not be assumed is (account, "*", "*"), or (account, region, "*") for each requested region.
ALL = "*"


class CoverageGap(BaseModel):
    """What an (account, region, resource type) collection unit could not read.

    With no ``fields``, the unit itself failed: none of its resources were read and no check of
    its type is judged there. With ``fields``, one join failed: the resources were read, and only
    the checks reading one of those fields are UNKNOWN in that scope.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str
    region: str
    resource_type: str
    error_code: str
    message: str
    fields: tuple[str, ...] = Field(
        default=(), description="Document fields a failed join would have filled; empty when the unit failed"
    )
