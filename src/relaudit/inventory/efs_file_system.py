"""Collector for AWS::EFS::FileSystem, with mount-target AZs, backup policy and AWS Backup."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from relaudit.aws import error_code
from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import BACKUP_ACTIONS, BackupIndex, is_gone

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::EFS::FileSystem"
IAM_ACTIONS = (
    frozenset(
        {
            "elasticfilesystem:DescribeFileSystems",
            "elasticfilesystem:DescribeMountTargets",
            "elasticfilesystem:DescribeBackupPolicy",
        }
    )
    | BACKUP_ACTIONS
)
DOCUMENT = shapes.fields(
    shapes.Api("efs", "DescribeFileSystems", "FileSystems[]", ("FileSystemArn", "FileSystemId", "Name")),
    MountTargetAvailabilityZones=shapes.ZONES,
    BackupPolicy=shapes.Api("efs", "DescribeBackupPolicy", "BackupPolicy"),
    AwsBackup=shapes.AWS_BACKUP,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (
    shapes.Api("efs", "DescribeMountTargets", "MountTargets[]", ("AvailabilityZoneName",)),
    shapes.Api("efs", "DescribeFileSystems", "FileSystems[]", ("AvailabilityZoneName", "NumberOfMountTargets")),
    shapes.Api("backup", "ListProtectedResources", "Results[]", ("ResourceArn", "LastBackupTime")),
)


def _backup_policy(ctx: CollectorContext, file_system_id: str) -> dict[str, Any] | None:
    """The file system's automatic-backup policy; PolicyNotFound means none (backups off)."""
    try:
        policy: dict[str, Any] | None = (
            ctx.client("efs").describe_backup_policy(FileSystemId=file_system_id).get("BackupPolicy")
        )
    except ClientError as exc:
        if error_code(exc) == "PolicyNotFound":
            return None
        raise
    return policy


def _mount_target_zones(ctx: CollectorContext, file_system: dict[str, Any]) -> list[str]:
    if not file_system.get("NumberOfMountTargets"):
        return []
    targets = paginate(
        ctx.client("efs"),
        "describe_mount_targets",
        "MountTargets",
        ctx.page_size,
        FileSystemId=file_system["FileSystemId"],
    )
    return [target["AvailabilityZoneName"] for target in targets if target.get("AvailabilityZoneName")]


def _enrich(ctx: CollectorContext, file_system: dict[str, Any]) -> dict[str, Any] | None:
    """The per-file-system fields the selected checks read; None if the file system is gone."""
    extra: dict[str, Any] = {}
    try:
        if ctx.wants("MountTargetAvailabilityZones"):
            extra["MountTargetAvailabilityZones"] = _mount_target_zones(ctx, file_system)
        if ctx.wants("BackupPolicy"):
            extra["BackupPolicy"] = _backup_policy(ctx, file_system["FileSystemId"])
    except ClientError as exc:
        if is_gone(exc):
            return None  # deleted since DescribeFileSystems
        raise
    return extra


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every file system; One Zone ones carry ``AvailabilityZoneName``. Added when a selected
    check reads them: ``MountTargetAvailabilityZones``, ``BackupPolicy`` (per file system, through
    ``ctx.map``) and ``AwsBackup``.
    """
    efs = ctx.client("efs")
    file_systems = list(paginate(efs, "describe_file_systems", "FileSystems", ctx.page_size))
    backups = BackupIndex.load(ctx) if file_systems and ctx.wants("AwsBackup") else None
    for file_system, extra in zip(file_systems, ctx.map(partial(_enrich, ctx), file_systems), strict=True):
        if extra is None:
            continue
        arn = file_system["FileSystemArn"]
        properties = {**file_system, **extra}
        if backups is not None:
            properties["AwsBackup"] = backups.summary(arn)
        yield document(ctx, RESOURCE_TYPE, arn, file_system.get("Name") or file_system["FileSystemId"], properties)
