"""Joins several collectors share: subnet and DB instance Availability Zones, and AWS Backup recovery points."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.aws import error_code
from relaudit.inventory import listings
from relaudit.inventory.base import paginate

if TYPE_CHECKING:
    from collections.abc import Iterable

    from relaudit.inventory.base import CollectorContext

logger = logging.getLogger(__name__)

SUBNET_ACTIONS = frozenset({"ec2:DescribeSubnets"})
BACKUP_ACTIONS = frozenset({"backup:ListProtectedResources"})
_SUBNET_PAGE = 1000  # DescribeSubnets' largest page
_SECONDS_PER_DAY = 86_400
_EC2_MIN_PAGE = 5


def subnets(ctx: CollectorContext) -> list[dict[str, Any]]:
    """Every subnet of ctx's region (DescribeSubnets), read once per run for every collector.

    The whole region rather than the ids a collector names: one call per 1,000 subnets, where a
    ``subnet-id`` filter takes at most 200 ids a call and each collector would send its own.
    MaxResults is always sent: EC2 puts unpaginated describes in a slower rate bucket.
    """
    return listings.listed(ctx, "ec2", "describe_subnets", "Subnets", ec2_page_size(ctx) or _SUBNET_PAGE)


def subnet_zones(ctx: CollectorContext, subnet_ids: Iterable[str]) -> dict[str, str]:
    """Map subnet id to Availability Zone name for the ``subnet_ids`` that exist (a deleted subnet
    is missing from the map); duplicates are fine."""
    ids = set(subnet_ids)
    if not ids:
        return {}
    return {subnet["SubnetId"]: subnet["AvailabilityZone"] for subnet in subnets(ctx) if subnet["SubnetId"] in ids}


# Error codes meaning "deleted between the list call and this one": skip the resource, not the unit.
GONE_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "TableNotFoundException",
        "LoadBalancerNotFound",
        "TargetGroupNotFound",
        "AccessPointNotFound",
        "FileSystemNotFound",
    }
)


def is_gone(error: ClientError) -> bool:
    """Whether ``error`` says the resource no longer exists."""
    return error_code(error) in GONE_CODES


def ec2_page_size(ctx: CollectorContext) -> int | None:
    """ctx.page_size raised to 5, the smallest MaxResults most EC2 Describe* calls accept."""
    return None if ctx.page_size is None else max(ctx.page_size, _EC2_MIN_PAGE)


def zones_of(subnets: Iterable[str], zones: dict[str, str]) -> list[str]:
    """The zones of ``subnets`` in order, skipping subnets that no longer exist."""
    return [zones[subnet] for subnet in subnets if subnet in zones]


def _last_backups(ctx: CollectorContext) -> dict[str, dt.datetime]:
    """Resource ARN -> its newest recovery point's time, for the region (shared by every collector)."""
    last_backup: dict[str, dt.datetime] = {}
    backup = ctx.client("backup")
    for item in paginate(backup, "list_protected_resources", "Results", ctx.page_size):
        arn, when = item.get("ResourceArn"), item.get("LastBackupTime")
        if arn and isinstance(when, dt.datetime):
            previous = last_backup.get(arn)
            last_backup[arn] = when if previous is None else max(previous, when)
    return last_backup


class BackupIndex:
    """When AWS Backup last saved each resource in a region (backup:ListProtectedResources).

    A resource is listed once it has a recovery point in any vault, whether a plan or an
    on-demand job made it; ``LastBackupAgeDays`` lets a check ask for a recent one.
    """

    def __init__(self, last_backup: dict[str, dt.datetime], now: dt.datetime) -> None:
        self._last_backup = last_backup
        self._now = now

    @classmethod
    def load(cls, ctx: CollectorContext) -> BackupIndex | None:
        """Read every protected resource of ctx's account and region (paginated).

        Returns:
            The index, or None when AWS Backup cannot be read (AccessDenied, a region without the
            API, moto): the failure is recorded on ``ctx`` (the unit becomes a coverage gap) and
            the collector's documents go on without ``AwsBackup``.
        """
        try:
            last_backup = ctx.shared(("backup", "protected-resources"), lambda: _last_backups(ctx))
        except (ClientError, BotoCoreError) as exc:
            logger.warning("AWS Backup join failed", extra={"region": ctx.region, "error": str(exc)[:200]})
            ctx.enrichment_failed("AwsBackup", exc)
            return None
        return cls(last_backup, dt.datetime.now(dt.UTC))

    def summary(self, *arns: str) -> dict[str, Any]:
        """The newest recovery point among ``arns`` (a volume and its instance, say).

        Returns:
            ``{"LastBackupTime": iso8601, "LastBackupAgeDays": float}``, both null when AWS Backup
            holds no recovery point for any of ``arns``.
        """
        times = [self._last_backup[arn] for arn in arns if arn in self._last_backup]
        if not times:
            return {"LastBackupTime": None, "LastBackupAgeDays": None}
        newest = max(times)
        age = (self._now - newest).total_seconds() / _SECONDS_PER_DAY
        return {"LastBackupTime": newest.isoformat(), "LastBackupAgeDays": round(max(age, 0.0), 3)}


def instance_zones(client: Any, page_size: int | None, **kwargs: Any) -> dict[str, str | None]:
    """Map DB instance identifier to its Availability Zone (one paginated pass over the region).

    Args:
        client: An ``rds`` (or ``neptune``, same API) client.
        page_size: Page size for the paginator.
        **kwargs: Extra DescribeDBInstances arguments, such as an engine filter.
    """
    return {
        instance["DBInstanceIdentifier"]: instance.get("AvailabilityZone")
        for instance in paginate(client, "describe_db_instances", "DBInstances", page_size, **kwargs)
    }


def member_zones(cluster: dict[str, Any], zones: dict[str, str | None]) -> list[str]:
    """The Availability Zone of each member of ``cluster`` whose zone is known, writer included."""
    found = (zones.get(member["DBInstanceIdentifier"]) for member in cluster.get("DBClusterMembers") or [])
    return [zone for zone in found if zone]
