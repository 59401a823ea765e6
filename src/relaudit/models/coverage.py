"""Coverage gaps: what an audit could not read, and why."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# A gap's region or resource_type when the whole scope could not be read: an account whose role
# could not be assumed is (account, "*", "*"), or (account, region, "*") for each requested region.
ALL = "*"


class CoverageGap(BaseModel):
    """One (account, region, resource type) unit that could not be read completely."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: str
    region: str
    resource_type: str
    error_code: str
    message: str
