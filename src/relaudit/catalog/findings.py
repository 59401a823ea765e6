"""A run's findings held as one small tuple each, built as Finding models only when read.

A Finding model costs about 0.9 KB: pydantic's per-instance dict, the id and the reason. At 10,000
resources and every check that is 69,000 of them, about 60 MB held until the output is written.
A record holds only what varies per finding (the strings are the resource document's, shared by
every check of that resource), about 0.11 KB; the Finding built from it is the same on every read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, overload

from relaudit.catalog.evaluate import GraphDetail, build_finding

if TYPE_CHECKING:
    from relaudit.catalog.loader import CompiledCheck
    from relaudit.models.check import Severity, Status
    from relaudit.models.finding import Finding, Suppression

# What the policy marks a finding with (relaudit.policy.apply.Marks): its suppression and its tier.
Marks = tuple["Suppression | None", "str | None"]
# (account_id, region, check id, resource arn, resource name, status, check, detail, marks): the
# report order's key first. The detail is None but for UNKNOWN (what it lacked, shared by a scope's
# findings) and graph findings (their path and what the graph showed); the marks are None without a
# policy, or for a finding it neither suppresses nor tiers.
Record = tuple[str, str, str, str, str, "Status", "CompiledCheck", str | GraphDetail | None, "Marks | None"]
_REPORT_ORDER = itemgetter(0, 1, 2, 3)


def record(
    check: CompiledCheck,
    status: Status,
    account_id: str,
    region: str,
    arn: str,
    name: str,
    detail: str | GraphDetail | None = None,
    marks: Marks | None = None,
) -> Record:
    """The record of one finding."""
    return (account_id, region, check.definition.id, arn, name, status, check, detail, marks)


def _build(rec: Record) -> Finding:
    account_id, region, _, arn, name, status, check, detail, marks = rec
    if marks is None:
        return build_finding(check, status, account_id, region, arn, name, detail)
    return build_finding(check, status, account_id, region, arn, name, detail, suppression=marks[0], tier=marks[1])


class FindingRecords(Sequence["Finding"]):
    """Findings in report order (account, region, check, resource), each built when read."""

    __slots__ = ("_records",)

    def __init__(self, records: list[Record]) -> None:
        """Hold ``records`` (the list itself, sorted in place: it is not copied)."""
        records.sort(key=_REPORT_ORDER)
        self._records = records

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        if isinstance(index, slice):
            return [_build(rec) for rec in self._records[index]]
        return _build(self._records[index])

    def __iter__(self) -> Iterator[Finding]:
        return map(_build, self._records)

    def by_check(self) -> Iterator[tuple[str, FindingRecords]]:
        """The findings of each check, in check order (for one scope: the sinks' unit of delivery)."""
        for check_id, group in groupby(self._records, key=itemgetter(2)):
            yield check_id, FindingRecords(list(group))

    @classmethod
    def joined(cls, parts: Iterable[FindingRecords]) -> FindingRecords:
        """One sequence of several (scopes' findings, say), in report order."""
        return cls([rec for part in parts for rec in part._records])

    def outcomes(self) -> Iterator[tuple[Status, Severity, bool]]:
        """Each finding's status, severity and whether it is suppressed, without building the findings."""
        return ((rec[5], rec[6].definition.severity, bool(rec[8] and rec[8][0])) for rec in self._records)
