"""What a collector's documents are made of, as data a test checks against botocore's models.

Each collector declares ``DOCUMENT``: the API output its documents copy (an :class:`Api`, the
items under a path of an operation's output shape) plus the fields it adds; and ``READS``: the
other outputs it reads without copying them (an alias list, a metric, a join's source).
``tests/unit/test_field_paths.py`` walks every field path a check reads through ``DOCUMENT`` and
botocore's output shapes, and every path in an :class:`Api`'s ``reads`` (the raw fields the
collector's own code reads): a renamed field in a botocore model, a typo in a check, or a check
reading a field no collector provides fails it. The collector tests hold ``DOCUMENT`` to what
each collector really yields. Pure data: nothing here imports botocore.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Api:
    """The items at ``path`` of ``operation``'s output (``Functions[]``: each item of the list
    under ``Functions``; empty: the output itself), and the raw paths the collector reads in them
    (``a.b``, ``a[].b``; ``*`` for any key of a map)."""

    service: str
    operation: str
    path: str = ""
    reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shape:
    """A named shape of a service's model (botocore spells it as in ``service-2.json``)."""

    service: str
    name: str


@dataclass(frozen=True)
class Attributes:
    """A string map whose keys are the values of an enum shape (SQS's QueueAttributeName)."""

    service: str
    enum: str


@dataclass(frozen=True)
class ListOf:
    """A list whose items are ``item``."""

    item: Spec


@dataclass(frozen=True)
class Fields:
    """Named fields, then the fields of each of ``bases`` (a later collector field wins)."""

    members: dict[str, Spec] = field(default_factory=dict)
    bases: tuple[Spec, ...] = ()


class _Any:
    """Anything: a computed value, or JSON relaudit parsed; a path below it is not checked."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()
Spec = Api | Shape | Attributes | ListOf | Fields | _Any


def fields(*bases: Spec, **members: Any) -> Fields:
    """``Fields(members, bases)``, written the way collectors build documents: ``{**api, **added}``."""
    return Fields(dict(members), tuple(bases))


# Enrichments several collectors add.
ZONES = ListOf(ANY)  # Availability Zone names
AWS_BACKUP = fields(LastBackupTime=ANY, LastBackupAgeDays=ANY)  # lookups.BackupIndex.summary
ALARMS = ListOf(fields(AlarmName=ANY, Actionable=ANY, MetricName=ANY))  # alarm_index.AlarmIndex.find
DEAD_LETTER_QUEUE = fields(Arn=ANY, Exists=ANY, AllowsDelivery=ANY)  # queue_access.QueueProbe.describe
REDRIVE_POLICY = fields(deadLetterTargetArn=ANY, maxReceiveCount=ANY)  # SQS and SNS, parsed JSON
