"""A region's CloudWatch metric alarms indexed by (namespace, metric, dimension), for alarm joins."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relaudit.inventory import shapes
from relaudit.inventory.base import paginate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.inventory.base import CollectorContext

IAM_ACTIONS = frozenset({"cloudwatch:DescribeAlarms"})
_MAX_RECORDS = 100  # DescribeAlarms' largest page
# What the index reads of each alarm: every collector that joins alarms lists it in its READS.
READS = shapes.Api(
    "cloudwatch",
    "DescribeAlarms",
    "MetricAlarms[]",
    (
        "AlarmName",
        "MetricName",
        "Namespace",
        "Dimensions[].Name",
        "Dimensions[].Value",
        "Metrics[].MetricStat.Metric.MetricName",
        "Metrics[].MetricStat.Metric.Dimensions",
        "AlarmActions",
        "ActionsEnabled",
    ),
)

AlarmKey = tuple[str, str, str, str]  # namespace, metric name, dimension name, dimension value


@dataclass(frozen=True)
class AlarmIndex:
    """Alarm summaries keyed by the metric and each dimension they watch."""

    by_metric: dict[AlarmKey, list[dict[str, Any]]] = field(default_factory=dict)

    def find(self, namespace: str, metric: str, dimension: str, value: str) -> list[dict[str, Any]]:
        """Alarms on ``metric`` in ``namespace`` whose dimension ``dimension`` equals ``value``.

        Each summary has ``AlarmName``, ``MetricName`` and ``Actionable`` (actions enabled and at
        least one ALARM action, so the alarm notifies someone or does something).
        """
        return list(self.by_metric.get((namespace, metric, dimension, value), []))


def _watched_metrics(alarm: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The metrics an alarm reads: its own metric, or each MetricStat of a metric-math alarm."""
    if alarm.get("MetricName"):
        yield alarm
    for query in alarm.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric")
        if metric:
            yield metric


def load_alarms(ctx: CollectorContext) -> AlarmIndex:
    """Every metric alarm in ctx's region, read once per run for all collectors (DescribeAlarms)."""
    return ctx.shared(("cloudwatch", "alarms"), lambda: _read_alarms(ctx))


def _read_alarms(ctx: CollectorContext) -> AlarmIndex:
    index: dict[AlarmKey, list[dict[str, Any]]] = defaultdict(list)
    cloudwatch = ctx.client("cloudwatch")
    page_size = ctx.page_size or _MAX_RECORDS
    for alarm in paginate(cloudwatch, "describe_alarms", "MetricAlarms", page_size, AlarmTypes=["MetricAlarm"]):
        summary = {
            "AlarmName": alarm.get("AlarmName"),
            "Actionable": bool(alarm.get("ActionsEnabled")) and bool(alarm.get("AlarmActions")),
        }
        for metric in _watched_metrics(alarm):
            for dimension in metric.get("Dimensions") or []:
                key = (metric.get("Namespace", ""), metric["MetricName"], dimension["Name"], dimension["Value"])
                entry = {**summary, "MetricName": metric["MetricName"]}
                if entry not in index[key]:
                    index[key].append(entry)
    return AlarmIndex(dict(index))
