"""Helpers for collector tests of the reliability catalog: AWS Backup stubs, contexts, verdicts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.stub import Stubber

from relaudit.catalog.evaluate import status_of
from relaudit.catalog.loader import load_catalog
from relaudit.inventory import COLLECTORS, load_collector
from relaudit.inventory.base import CollectorContext

if TYPE_CHECKING:
    from relaudit.models.resource import ResourceDocument

ACCOUNT = "123456789012"
REGION = "us-east-1"
_CATALOG = load_catalog(known_types=COLLECTORS)


def days_ago(days: float) -> dt.datetime:
    """A timezone-aware instant ``days`` before now."""
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=days)


def stub_protected_resources(factory: Any, items: list[dict[str, Any]], page_size: int | None = 2) -> Stubber:
    """Stub backup:ListProtectedResources (moto 5.2: NotImplemented) with ``items`` in pages.

    The stubbed client is the factory's cached one, which the collector uses; each page expects
    the paginator's MaxResults and the previous page's NextToken, so a collector that stops after
    page one leaves responses pending (``assert_no_pending_responses`` catches it). A call that
    does not match raises StubAssertionError, a BotoCoreError, which the collector records as an
    enrichment failure (no AwsBackup): tests assert AwsBackup, so a mismatch cannot pass unseen.
    ``page_size=None`` serves one page and expects no MaxResults.
    """
    stubber = Stubber(factory.client("backup", REGION))
    size = page_size or max(len(items), 1)
    pages = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
    for number, page in enumerate(pages):
        response: dict[str, Any] = {"Results": page}
        if number + 1 < len(pages):
            response["NextToken"] = f"page-{number + 1}"
        expected: dict[str, Any] = {"MaxResults": page_size} if page_size else {}
        if number:
            expected["NextToken"] = f"page-{number}"
        stubber.add_response("list_protected_resources", response, expected)
    stubber.activate()
    return stubber


def protected(arn: str, age_days: float, resource_type: str) -> dict[str, Any]:
    """One ListProtectedResources item for ``arn``, last backed up ``age_days`` ago."""
    return {"ResourceArn": arn, "ResourceType": resource_type, "LastBackupTime": days_ago(age_days)}


def collect_needing(factory: Any, resource_type: str, needs: frozenset[str]) -> dict[str, ResourceDocument]:
    """Run a collector as a plan whose checks read only ``needs`` would."""
    ctx = CollectorContext(ACCOUNT, REGION, factory.bound(REGION), "aws", 2, needs=needs)
    return {doc.name: doc for doc in load_collector(resource_type).collect(ctx)}


def verdicts(check_id: str, docs: dict[str, ResourceDocument]) -> dict[str, str]:
    """The status the named check gives each collected document, by resource name."""
    check = _CATALOG.checks[check_id]
    return {name: str(status_of(check, doc.properties)) for name, doc in docs.items()}


@dataclass(frozen=True)
class Network:
    """What build_vpc made: the VPC and its subnets by zone."""

    vpc_id: str
    public: dict[str, str]
    private: dict[str, str]


def build_vpc(ec2: Any, name: str, cidr: str, nat_per_zone: bool) -> Network:
    """A VPC named ``name``: public subnets in zones a and b (NAT gateways live there) and private
    subnets a and b whose default route goes to the NAT gateway of their zone, or all to zone a's."""
    vpc = ec2.create_vpc(
        CidrBlock=cidr, TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}]
    )
    vpc_id = vpc["Vpc"]["VpcId"]
    prefix = cidr.rsplit(".", 2)[0]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    public: dict[str, str] = {}
    private: dict[str, str] = {}
    for i, zone in enumerate(("us-east-1a", "us-east-1b")):
        public[zone] = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{prefix}.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        private[zone] = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{prefix}.{10 + i}.0/24", AvailabilityZone=zone)[
            "Subnet"
        ]["SubnetId"]
    public_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    nats = {}
    for zone, subnet in public.items():
        ec2.associate_route_table(RouteTableId=public_table, SubnetId=subnet)
        if nat_per_zone or zone == "us-east-1a":
            allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
            nats[zone] = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    for zone, subnet in private.items():
        table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.create_route(
            RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nats.get(zone, nats["us-east-1a"])
        )
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return Network(vpc_id, public, private)
