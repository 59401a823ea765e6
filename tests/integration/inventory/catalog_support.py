"""Helpers for collector tests of the reliability catalog: AWS Backup stubs, contexts, verdicts."""

from __future__ import annotations

import datetime as dt
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
