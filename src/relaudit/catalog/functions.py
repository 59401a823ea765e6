"""Custom JMESPath functions available to check expressions (documented in checks/README.md)."""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath import functions


class RelauditFunctions(functions.Functions):
    """JMESPath built-ins plus a few functions reliability checks need."""

    @functions.signature({"types": ["array"]})
    def _func_unique(self, items: list[Any]) -> list[Any]:
        """Distinct items, first occurrence order kept (e.g. distinct Availability Zones)."""
        seen: list[Any] = []
        for item in items:
            if item not in seen:
                seen.append(item)
        return seen

    @functions.signature({"types": ["string"]})
    def _func_lower(self, value: str) -> str:
        """Lower-case a string, for case-insensitive comparisons."""
        return value.lower()

    @functions.signature({"types": ["array", "null"]}, {"types": []})
    def _func_includes(self, items: list[Any] | None, value: Any) -> bool:
        """True if ``value`` is in ``items``; a missing array (null) includes nothing."""
        return value in (items or [])


OPTIONS = jmespath.Options(custom_functions=RelauditFunctions())
