"""Collector for AWS::Scheduler::Schedule (EventBridge Scheduler), with each schedule's target settings."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from relaudit.inventory import listings, shapes
from relaudit.inventory.base import CollectorContext, document

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::Scheduler::Schedule"
IAM_ACTIONS = listings.SCHEDULE_ACTIONS
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
DOCUMENT = shapes.fields(
    shapes.Api("scheduler", "GetSchedule", "", ("Arn", "Name", "GroupName", "EndDate", "ScheduleExpression")),
    Finished=shapes.ANY,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("scheduler", "ListSchedules", "Schedules[]", ("Name", "GroupName")),)


def _finished(schedule: dict[str, Any], now: dt.datetime) -> bool:
    """A one-time schedule whose time has passed, or a schedule past its EndDate, will not fire again.

    The at() time is local to ScheduleExpressionTimezone (UTC offsets span -12 h to +14 h); it is
    read as UTC with 14 hours' slack, so a schedule is never judged finished before it has fired,
    only up to a day after.
    """
    end = schedule.get("EndDate")
    if isinstance(end, dt.datetime) and end < now:
        return True
    match = _AT.match(schedule.get("ScheduleExpression") or "")
    if not match:
        return False
    when = dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC)
    return when < now - dt.timedelta(hours=14)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every schedule in every group (GetSchedule per schedule: ListSchedules omits the
    target's DeadLetterConfig and RetryPolicy) with ``Finished``: it will never fire again.
    """
    now = dt.datetime.now(dt.UTC)
    for summary in listings.schedules(ctx):
        schedule = listings.schedule(ctx, summary["Name"], summary.get("GroupName") or "default")
        if schedule is None:
            continue
        group = schedule.get("GroupName") or "default"
        properties = {**schedule, "Finished": _finished(schedule, now)}
        yield document(ctx, RESOURCE_TYPE, schedule["Arn"], f"{group}/{schedule['Name']}", properties)
