"""Plan an audit: which account, which regions, which checks, and so which resource types."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.errors import BadRequestError, RelauditError
from relaudit.graph import facts as graph_facts
from relaudit.inventory import COLLECTORS
from relaudit.service_models import endpoint_regions

if TYPE_CHECKING:
    from relaudit.aws import ClientFactory
    from relaudit.catalog.loader import Catalog, CompiledCheck
    from relaudit.models.request import AuditRequest

logger = logging.getLogger(__name__)

IAM_ACTIONS = frozenset({"ec2:DescribeRegions"})
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@dataclass(frozen=True)
class Plan:
    """The resolved scope of one run."""

    account_id: str
    partition: str
    regions: tuple[str, ...]
    checks: tuple[CompiledCheck, ...]

    @property
    def reads_graph(self) -> bool:
        """Whether a selected check reads the workload graph (only then is it collected)."""
        return any(check.definition.graph for check in self.checks)

    def after_graph(self, check: CompiledCheck) -> bool:
        """Whether ``check``'s findings are published once the account's graph is judged: a graph
        check's, and a redundancy check's when the graph is read (they carry its blast radius)."""
        return check.definition.graph or (check.definition.blast_radius and self.reads_graph)

    @property
    def resource_types(self) -> tuple[str, ...]:
        """The resource types the selected checks read (the graph's too, for a graph check), in a stable order."""
        types = {check.definition.resource_type for check in self.checks}
        if self.reads_graph:
            types |= set(graph_facts.SOURCE_TYPES)
        return tuple(sorted(types))

    def needs(self, resource_type: str) -> frozenset[str]:
        """The document fields the selected checks of ``resource_type`` read (and the graph's facts)."""
        fields: set[str] = set()
        for check in self.checks:
            if check.definition.resource_type == resource_type:
                fields |= check.fields()
        if self.reads_graph:
            fields |= graph_facts.FIELDS.get(resource_type, frozenset())
        return frozenset(fields)


def select_checks(catalog: Catalog, requested: list[str]) -> tuple[CompiledCheck, ...]:
    """Return the requested checks (all when none are named).

    Raises:
        BadRequestError: A requested id is not in the catalog.
    """
    if not requested:
        return tuple(catalog.checks[key] for key in sorted(catalog.checks))
    unknown = [check_id for check_id in requested if check_id not in catalog.checks]
    if unknown:
        raise BadRequestError("checks", f"unknown check id '{unknown[0]}' (see `relaudit checks`)")
    return tuple(catalog.checks[check_id] for check_id in requested)


def known_regions(factory: ClientFactory) -> set[str]:
    """Every region botocore knows for EC2 in any partition (local data; no API call)."""
    return endpoint_regions(factory.session, "ec2", _PARTITIONS)


def enabled_regions(factory: ClientFactory) -> list[str]:
    """Regions enabled for the account (opt-in regions not opted in are skipped).

    Raises:
        RelauditError: DescribeRegions failed; the message suggests --regions.
    """
    ec2 = factory.client("ec2")
    try:
        response = ec2.describe_regions(
            Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}]
        )
    except (ClientError, BotoCoreError) as exc:
        raise RelauditError(f"cannot list enabled regions ({exc}); name them with --regions") from exc
    return sorted(region["RegionName"] for region in response.get("Regions", []))


def caller_account(factory: ClientFactory) -> tuple[str, str]:
    """Return (account id, partition) of the credentials in use.

    Raises:
        RelauditError: No usable credentials.
    """
    try:
        identity = factory.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        raise RelauditError(f"cannot identify the AWS account: {exc}") from exc
    arn: str = identity["Arn"]
    return identity["Account"], arn.split(":")[1]


def make_plan(request: AuditRequest, catalog: Catalog, factory: ClientFactory) -> Plan:
    """Resolve a request into a plan.

    Raises:
        BadRequestError: An unknown region or check id.
        RelauditError: The account or its regions cannot be read.
    """
    checks = select_checks(catalog, request.checks)
    missing = sorted({c.definition.resource_type for c in checks} - set(COLLECTORS))
    if missing:
        raise BadRequestError("checks", f"no collector for resource type '{missing[0]}'")
    if request.regions:
        known = known_regions(factory)
        unknown = [region for region in request.regions if region not in known]
        if unknown:
            raise BadRequestError("regions", f"unknown region '{unknown[0]}'")
    account_id, partition = caller_account(factory)
    regions = request.regions or enabled_regions(factory)
    logger.info("planned audit", extra={"account_id": account_id, "regions": len(regions), "checks": len(checks)})
    return Plan(account_id=account_id, partition=partition, regions=tuple(regions), checks=checks)
