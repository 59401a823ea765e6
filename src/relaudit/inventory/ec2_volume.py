"""Collector for AWS::EC2::Volume, with AWS Backup recovery points of the volume or its instance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relaudit.inventory import shapes
from relaudit.inventory.base import CollectorContext, document, paginate
from relaudit.inventory.lookups import BACKUP_ACTIONS, BackupIndex, ec2_page_size

if TYPE_CHECKING:
    from collections.abc import Iterator

    from relaudit.models.resource import ResourceDocument

RESOURCE_TYPE = "AWS::EC2::Volume"
IAM_ACTIONS = frozenset({"ec2:DescribeVolumes"}) | BACKUP_ACTIONS
DOCUMENT = shapes.fields(
    shapes.Api("ec2", "DescribeVolumes", "Volumes[]", ("VolumeId", "Attachments[].InstanceId")),
    AwsBackup=shapes.AWS_BACKUP,
)
# Raw outputs the collector reads to build its documents (not copied into them).
READS = (shapes.Api("backup", "ListProtectedResources", "Results[]", ("ResourceArn", "LastBackupTime")),)


def collect(ctx: CollectorContext) -> Iterator[ResourceDocument]:
    """Yield every EBS volume. ``AwsBackup`` (when a selected check reads it) is the newest AWS
    Backup recovery point of the volume itself or of an instance it is attached to, since an EC2
    instance backup (an AMI) covers its volumes.
    """
    ec2 = ctx.client("ec2")
    volumes = list(paginate(ec2, "describe_volumes", "Volumes", ec2_page_size(ctx)))
    backups = BackupIndex.load(ctx) if volumes and ctx.wants("AwsBackup") else None
    prefix = f"arn:{ctx.partition}:ec2:{ctx.region}:{ctx.account_id}"
    for volume in volumes:
        volume_id = volume["VolumeId"]
        arn = f"{prefix}:volume/{volume_id}"
        properties = dict(volume)
        if backups is not None:
            instances = [f"{prefix}:instance/{a['InstanceId']}" for a in volume.get("Attachments") or []]
            properties["AwsBackup"] = backups.summary(arn, *instances)
        yield document(ctx, RESOURCE_TYPE, arn, volume_id, properties)
