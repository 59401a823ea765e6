"""AWS::Scheduler::Schedule collector on moto: targets' DLQ and retry policy, finished one-time schedules."""

from __future__ import annotations

from typing import Any

import boto3

from .lambda_support import ACCOUNT

TARGET = {
    "Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:report",
    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
}


def test_schedules_across_groups_and_pages(aws: None, collect: Any, calls: Any) -> None:
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    scheduler.create_schedule_group(Name="reports")
    dlq = {"Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:schedules-dlq"}
    scheduler.create_schedule(
        Name="nightly",
        GroupName="reports",
        ScheduleExpression="cron(0 2 * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={**TARGET, "DeadLetterConfig": dlq, "RetryPolicy": {"MaximumRetryAttempts": 2}},
    )
    for i in range(2):
        scheduler.create_schedule(
            Name=f"hourly-{i}", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"}, Target=TARGET
        )
    scheduler.create_schedule(
        Name="once", ScheduleExpression="at(2020-01-01T00:00:00)", FlexibleTimeWindow={"Mode": "OFF"}, Target=TARGET
    )
    seen = calls("scheduler")

    docs = collect("AWS::Scheduler::Schedule")

    assert sorted(docs) == ["default/hourly-0", "default/hourly-1", "default/once", "reports/nightly"]
    nightly = docs["reports/nightly"].properties
    assert nightly["Target"]["DeadLetterConfig"] == dlq
    assert nightly["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 2
    assert nightly["Finished"] is False
    hourly = docs["default/hourly-0"].properties
    assert "DeadLetterConfig" not in hourly["Target"]
    # moto, like AWS, fills in the default retry policy (185 attempts, 24 hours).
    assert hourly["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert docs["default/once"].properties["Finished"] is True
    assert docs["reports/nightly"].arn == f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/reports/nightly"
    assert seen.count("ListSchedules") >= 2
    assert seen.count("GetSchedule") == 4
