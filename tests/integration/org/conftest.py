"""A moto organization: a management (auditor) account and four members, three seeded, one refusing.

moto keeps each account's state apart, and an assumed role's credentials act in the role's account.
moto does not check that the role exists, its trust policy or the ExternalId: any AssumeRole
succeeds, so the refusing account is made with a before-call hook answering AccessDenied for its
role ARN (:func:`deny_assume_role`). Each member gets the member role (as member-role.yaml would
create it), Security Hub enabled, and (three of them) the demo workload in one region.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from relaudit.aws import ClientFactory, client_config
from relaudit.catalog.loader import Catalog, load_catalog
from relaudit.credentials import assumed_role_session
from relaudit.demo.seed import Planted, seed
from relaudit.inventory import COLLECTORS
from relaudit.sinks.dynamodb import ensure_table

REGION = "us-east-1"
ROLE = "RelauditAudit"
EXTERNAL_ID = "relaudit-ext-7f3c9a1e"
TABLE = "relaudit-org-findings"
MANAGEMENT = "123456789012"  # moto's default account: the auditor (organization's management account)
SETUP_ROLE = "OrganizationAccountAccessRole"  # what an organization creates in new accounts; used to seed
# The demo's planted checks, without the AWS Backup one (moto lacks backup:ListProtectedResources,
# which would make the RDS unit a coverage gap): 0 gaps on a healthy member.
CHECKS = (
    "apigateway-stage-throttling-configured",
    "apigatewayv2-stage-throttling-configured",
    "autoscaling-group-multi-az",
    "dynamodb-table-deletion-protection",
    "dynamodb-table-pitr-enabled",
    "elbv2-load-balancer-deletion-protection",
    "elbv2-load-balancer-multi-az",
    "lambda-function-async-failure-captured",
    "lambda-function-reserved-concurrency-set",
    "lambda-function-vpc-multi-az",
    "rds-db-instance-backup-retention",
    "rds-db-instance-multi-az",
    "sqs-queue-dlq-depth-alarm-configured",
    "sqs-queue-dlq-retention-exceeds-sources",
    "sqs-queue-redrive-policy-configured",
)


@dataclass
class Org:
    """The organization the tests audit."""

    members: list[str]  # seeded, their role assumable
    denied: str  # its role refuses the auditor
    planted: dict[str, list[Planted]] = field(default_factory=dict)  # every check's expectations
    catalog: Catalog | None = None
    factories: dict[str, ClientFactory] = field(default_factory=dict)  # each member's own clients

    def hub(self, account: str) -> Any:
        """``account``'s Security Hub client in REGION, on that account's own credentials."""
        return self.factories[account].client("securityhub", REGION)

    def expected(self, account: str, checks: tuple[str, ...] | None = CHECKS) -> dict[tuple[str, str], str]:
        """(check id, resource name) -> the status ``account``'s seeded resources must get (of ``checks``)."""
        return {(p.check_id, p.name): p.expect for p in self.planted[account] if checks is None or p.check_id in checks}

    @property
    def accounts(self) -> list[str]:
        """Every member account, sorted."""
        return sorted([*self.members, self.denied])


def member_session(account: str, role: str = SETUP_ROLE) -> Any:
    """A boto3 session acting in ``account`` (moto: credentials of any assumed role do)."""
    return assumed_role_session(boto3.session.Session(), f"arn:aws:iam::{account}:role/{role}", region_name=REGION)


def member_factory(account: str) -> ClientFactory:
    """Retry-free clients acting in ``account`` (for setup and assertions)."""
    return ClientFactory(session=member_session(account), config=client_config(4, max_attempts=1))


def _trust_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
                }
            ],
        }
    )


def deny_assume_role(session: Any, account: str, role: str = ROLE) -> tuple[str, Any]:
    """Make ``session``'s STS clients made from now on refuse AssumeRole into ``account``'s ``role``.

    Returns:
        (event name, handler), for ``session.events.unregister``.
    """
    arn = f"arn:aws:iam::{account}:role/{role}"

    def refuse(params: dict[str, Any], **_: Any) -> Any:
        if params.get("body", {}).get("RoleArn") != arn:
            return None
        error = {"Code": "AccessDenied", "Message": f"not authorized to perform: sts:AssumeRole on resource: {arn}"}
        return AWSResponse("https://sts.amazonaws.com", 403, {}, None), {  # type: ignore[arg-type]
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    event = "before-call.sts.AssumeRole"
    session.events.register_first(event, refuse)
    return event, refuse


@pytest.fixture(scope="module")
def org() -> Iterator[Org]:
    """The organization, in a moto shared by the module's tests (seeding takes seconds)."""
    from moto import mock_aws

    with mock_aws():
        organizations = boto3.client("organizations", region_name=REGION)
        organizations.create_organization(FeatureSet="ALL")
        accounts = [
            organizations.create_account(Email=f"member-{n}@example.com", AccountName=f"member-{n}")[
                "CreateAccountStatus"
            ]["AccountId"]
            for n in range(4)
        ]
        result = Org(members=sorted(accounts[:3]), denied=accounts[3])
        for account in accounts:
            member = result.factories[account] = member_factory(account)
            member.client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=_trust_policy())
            member.client("securityhub", REGION).enable_security_hub()
            if account in result.members:
                result.planted[account] = seed(lambda s, r, m=member: m.client(s, r), (REGION,))
        ensure_table(boto3.client("dynamodb", region_name=REGION), TABLE)
        result.catalog = load_catalog(known_types=COLLECTORS)
        yield result


@pytest.fixture
def auditor() -> ClientFactory:
    """The auditor account's retry-free clients (its own session, so hooks stay in the test)."""
    return ClientFactory(session=boto3.session.Session(region_name=REGION), config=client_config(4, max_attempts=1))


@pytest.fixture
def org_env(org: Org, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The org function's environment as template.yaml sets it (OrgMode=true), for this organization."""
    env = {
        "RELAUDIT_REGIONS": REGION,
        "RELAUDIT_CHECKS": ",".join(CHECKS),
        "RELAUDIT_SINKS": "securityhub,dynamodb",
        "RELAUDIT_TABLE": TABLE,
        "RELAUDIT_MEMBER_ROLE": ROLE,
        "RELAUDIT_EXTERNAL_ID": EXTERNAL_ID,
        "RELAUDIT_ORG_ACCOUNTS": "",
        "RELAUDIT_INCLUDE_ACCOUNTS": "",
        "RELAUDIT_EXCLUDE_ACCOUNTS": MANAGEMENT,  # the auditor's own account has no member role here
        "RELAUDIT_MAP_MAX_CONCURRENCY": "40",
        "RELAUDIT_MAP_TOLERATED_FAILURE_PERCENTAGE": "100",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
