"""OCSF output: every PASSED/FAILED finding becomes a Compliance Finding event that validates against
the OCSF 1.6.0 schema (the real schema export, packaged by ocsf-json-schema, applied with jsonschema)."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest

from relaudit.models.check import Status
from relaudit.models.finding import Suppression
from relaudit.report import ocsf
from tests.support.ocsf_schema import schema_errors
from tests.support.report_data import finding, mixed, result


def _events() -> list[dict[str, Any]]:
    out = io.StringIO()
    count = ocsf.write_events(result(mixed()), out)
    events: list[dict[str, Any]] = json.loads(out.getvalue())
    assert count == len(events)
    return events


def test_every_event_validates_against_the_ocsf_schema() -> None:
    events = _events()
    assert events
    for event in events:
        assert schema_errors(event) == [], event["finding_info"]["uid"]


def test_one_event_per_passed_or_failed_finding_keyed_by_finding_id_and_arn() -> None:
    findings = mixed()
    judged = [f for f in findings if f.status in (Status.PASSED, Status.FAILED)]
    events = _events()
    assert [e["finding_info"]["uid"] for e in events] == [f.id for f in judged]
    assert [e["resources"][0]["uid"] for e in events] == [f.resource_arn for f in judged]
    for event, f in zip(events, judged, strict=True):
        assert (event["class_uid"], event["category_uid"], event["type_uid"]) == (2003, 2, 200301)
        assert event["metadata"]["product"]["name"] == "relaudit" and event["metadata"]["version"] == "1.6.0"
        assert event["time"] == ocsf.epoch_ms("2026-12-07T01:00:00+00:00") == 1796605200000
        assert event["compliance"]["status"] == ("Pass" if f.status is Status.PASSED else "Fail")
        assert event["status_id"] == (4 if f.status is Status.PASSED else 1)
        assert event["severity_id"] == {"HIGH": 4, "MEDIUM": 3}[f.severity.value]
        assert event["compliance"]["control"] == f.check_id and event["compliance"]["requirements"] == [f.best_practice]
        assert event["cloud"]["account"]["uid"] == f.account_id and event["cloud"]["region"] == f.region


def test_unknown_and_not_applicable_findings_are_not_events() -> None:
    unknown = finding("rds-db-instance-multi-az", "UNKNOWN", "us-east-1", "ledger-db")
    with pytest.raises(ValueError, match="UNKNOWN"):
        ocsf.to_event(unknown, 0)
    out = io.StringIO()
    assert ocsf.write_events(result([unknown]), out) == 0
    assert json.loads(out.getvalue()) == []


def test_the_schema_check_is_strict_enough_to_catch_a_wrong_event() -> None:
    # The validator, not a hand check, is what holds the events: it must refuse these.
    event = _events()[0]
    assert schema_errors({**event, "class_uid": "2003"})
    assert schema_errors({**event, "resources": [{"uid": 5}]})
    assert schema_errors({k: v for k, v in event.items() if k != "finding_info"})


def test_a_suppressed_failure_is_a_suppressed_event_that_still_fails_compliance() -> None:
    failed = finding("rds-db-instance-multi-az", Status.FAILED, "us-east-1", "legacy-db")
    held = Suppression(reason="decommissioned in Q1", expires=dt.date(2027, 3, 31), source="config")
    event = ocsf.to_event(failed.model_copy(update={"suppression": held}), 0)
    assert (event["status_id"], event["status"]) == (3, "Suppressed")
    assert event["compliance"]["status"] == "Fail"
    assert "decommissioned in Q1" in event["status_detail"] and "2027-03-31" in event["status_detail"]
    assert schema_errors(event) == []
    plain = ocsf.to_event(failed, 0)
    assert (plain["status_id"], "status_detail" in plain) == (1, False)
