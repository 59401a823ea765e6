"""A failed join costs only the checks that read its fields: the rest of the scope is reconciled.

AWS Backup's ListProtectedResources refused (an SCP, or a Region without AWS Backup) used to make
every RDS check of the region incomplete, so a deleted instance's findings stayed ACTIVE forever.
Now the RDS checks that do not read ``AwsBackup`` archive a deleted instance's findings as usual,
and the check that reads it is UNKNOWN: a stored verdict is left exactly as it was.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from relaudit.catalog.loader import load_catalog
from relaudit.demo.moto_gaps import protected_resources
from relaudit.inventory import COLLECTORS
from relaudit.models.check import Status
from relaudit.models.request import AuditRequest
from relaudit.run import run
from tests.integration.sinks.conftest import TABLE
from tests.integration.sinks.helpers import ACCOUNT, all_sh_findings, fast_options

CATALOG = load_catalog(known_types=COLLECTORS)
REGION = "us-east-1"
BACKUP_CHECK = "rds-db-instance-aws-backup-recent"
OTHER_CHECKS = ("rds-db-instance-backup-retention", "rds-db-instance-deletion-protection", "rds-db-instance-multi-az")
T0 = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def _instance(rds: Any, name: str) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        BackupRetentionPeriod=7,
    )


class Backup:
    """ListProtectedResources as AWS answers it (moto has none): every instance backed up, or refused."""

    def __init__(self) -> None:
        self.refuse = 0  # how many more calls to refuse
        self.refused = 0

    def __call__(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        if self.refuse:
            self.refuse -= 1
            self.refused += 1
            error = {"Code": "AccessDeniedException", "Message": "denied by a service control policy"}
            return AWSResponse("https://injected", 400, {}, None), {
                "Error": error,
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        results = protected_resources(ACCOUNT, REGION)
        return AWSResponse("https://injected", 200, {}, None), {
            "Results": results,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }


@pytest.fixture
def backup(factory: Any) -> Backup:
    answer = Backup()
    factory.client("backup", REGION).meta.events.register_first("before-call.backup.ListProtectedResources", answer)
    return answer


@pytest.fixture
def audited(factory: Any, table: Any, backup: Backup) -> Any:
    """audit() -> AuditResult of the RDS instance checks on REGION with both sinks; a day later each call."""
    rds = factory.client("rds", REGION)
    _instance(rds, "orders-db")
    _instance(rds, "billing-db")
    clock = Clock()

    def audit() -> Any:
        request = AuditRequest(
            regions=[REGION],
            checks=[BACKUP_CHECK, *OTHER_CHECKS],
            sinks=["securityhub", "dynamodb"],
            table=TABLE,
            max_workers=2,
        )
        result = run(request, CATALOG, factory, delivery_options=fast_options(clock=clock)[0])
        clock.now += dt.timedelta(days=1)
        return result

    return audit


def _by_key(result: Any) -> dict[tuple[str, str], Any]:
    return {(f.resource_name, f.check_id): f for f in result.findings}


def test_backup_refused_archives_a_deleted_instance_except_what_reads_backup(
    factory: Any, table: Any, audited: Any, backup: Backup
) -> None:
    first = _by_key(audited())
    assert {f.status for f in first.values()} <= {Status.PASSED, Status.FAILED}
    stored_before = {item["id"]: item for item in table.current(ACCOUNT, REGION)}
    rds = factory.client("rds", REGION)
    rds.delete_db_instance(DBInstanceIdentifier="orders-db", SkipFinalSnapshot=True)
    backup.refuse = 1

    second = audited()

    assert second.summary.result == "partial"
    [gap] = second.coverage_gaps
    assert (gap.resource_type, gap.error_code, gap.fields) == (
        "AWS::RDS::DBInstance",
        "AccessDeniedException",
        ("AwsBackup",),
    )
    now = _by_key(second)
    # The remaining instance: the Backup check cannot be judged, the others are judged as usual.
    unknown = now[("billing-db", BACKUP_CHECK)]
    assert unknown.status is Status.UNKNOWN
    assert "AwsBackup" in unknown.reason and "AccessDeniedException" in unknown.reason
    assert all(now[("billing-db", check)].status is first[("billing-db", check)].status for check in OTHER_CHECKS)
    assert second.summary.findings["UNKNOWN"] == 1

    stored = {item["id"]: item for item in table.current(ACCOUNT, REGION)}
    hub = {f["Id"]: f for f in all_sh_findings(factory.client("securityhub", REGION))}
    for check in OTHER_CHECKS:  # the deleted instance's findings of checks not reading AWS Backup
        gone = first[("orders-db", check)].id
        assert stored[gone]["record_state"] == "ARCHIVED"
        assert hub[gone]["RecordState"] == "ARCHIVED"
    for name in ("orders-db", "billing-db"):  # the Backup check's findings: exactly as stored before
        kept = first[(name, BACKUP_CHECK)].id
        assert stored[kept] == stored_before[kept]
        assert hub[kept]["RecordState"] == "ACTIVE"
        assert hub[kept]["Compliance"]["Status"] == first[(name, BACKUP_CHECK)].status.value
    events = table.finding_history(unknown.id)
    assert [(e["event"], e["status"], e.get("previous_status")) for e in events][-1] == (
        "UNKNOWN",
        "UNKNOWN",
        first[("billing-db", BACKUP_CHECK)].status.value,
    )
    assert "AwsBackup" in events[-1]["reason"]
    assert table.finding_history(first[("orders-db", BACKUP_CHECK)].id)[-1]["event"] == "NEW", "no event: not seen"


def test_a_new_unknown_finding_is_stored_but_never_sent_to_security_hub(
    factory: Any, table: Any, audited: Any, backup: Backup
) -> None:
    backup.refuse = 1
    result = audited()
    assert backup.refused == 1
    unknown = {f.id: f for f in result.findings if f.status is Status.UNKNOWN}
    assert {f.check_id for f in unknown.values()} == {BACKUP_CHECK} and len(unknown) == 2
    hub = {f["Id"] for f in all_sh_findings(factory.client("securityhub", REGION))}
    assert hub and not hub & unknown.keys()
    assert {i["id"] for i in table.by_status("UNKNOWN")} == unknown.keys()
    reports = {r.sink: r for r in result.summary.sinks}
    assert reports["securityhub"].unknown == 2 and reports["securityhub"].undelivered == 0
    assert result.summary.result == "partial"

    judged = audited()  # AWS Backup answers again: the findings are judged, stored and sent

    assert judged.summary.result == "complete"
    verdicts = {f.id: f.status for f in judged.findings if f.id in unknown}
    assert set(verdicts.values()) <= {Status.PASSED, Status.FAILED} and verdicts.keys() == unknown.keys()
    assert unknown.keys() <= {f["Id"] for f in all_sh_findings(factory.client("securityhub", REGION))}
    for finding_id, status in verdicts.items():
        events = [(e["event"], e.get("previous_status"), e["status"]) for e in table.finding_history(finding_id)]
        assert events == [("NEW", None, "UNKNOWN"), ("STATUS_CHANGED", "UNKNOWN", status.value)]
