"""Answers for the few APIs moto 5.2 does not implement, so the embedded account audits cleanly.

moto has no Lambda GetAccountSettings, no AWS Backup ListProtectedResources and Service Quotas only
for ``vpc``. A real account answers all three, so the demo's account does too: a WSGI middleware
in front of the moto server (:class:`MotoGapsMiddleware`), or botocore hooks on one client factory
for in-process ``mock_aws`` tests (:func:`install_hooks`). Both read moto's own backends, so the
answers follow what was seeded: every function's reserved concurrency, and a recovery point one
hour old for each RDS instance, Aurora cluster, DynamoDB table and EFS file system (the demo
account has an AWS Backup plan over everything) unless the resource is tagged
``relaudit-demo:backup=none``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSResponse, HTTPHeaders

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from relaudit.aws import ClientFactory

ACCOUNT_CONCURRENCY_LIMIT = 1000
NO_BACKUP_TAG = ("relaudit-demo:backup", "none")
_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def _backend(service: str, account: str, region: str) -> Any:
    from moto.backends import get_backend

    return get_backend(service)[account][region]  # type: ignore[call-overload]


def lambda_account_settings(account: str, region: str) -> dict[str, Any]:
    """GetAccountSettings as AWS answers it, from moto's functions in ``region``."""
    functions = list(_backend("lambda", account, region).list_functions())
    reserved = sum(int(fn.reserved_concurrency or 0) for fn in functions)
    return {
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800,
            "CodeSizeUnzipped": 262_144_000,
            "CodeSizeZipped": 52_428_800,
            "ConcurrentExecutions": ACCOUNT_CONCURRENCY_LIMIT,
            "UnreservedConcurrentExecutions": ACCOUNT_CONCURRENCY_LIMIT - reserved,
        },
        "AccountUsage": {
            "TotalCodeSize": sum(int(fn.code_size or 0) for fn in functions),
            "FunctionCount": len(functions),
        },
    }


def _untagged(tags: Iterable[dict[str, str]] | None) -> bool:
    return not any((t.get("Key"), t.get("Value")) == NO_BACKUP_TAG for t in tags or [])


def protected_resources(account: str, region: str, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """ListProtectedResources items: the backed-up resources of ``region``, last backed up an hour ago."""
    when = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=1)
    items: list[tuple[str, str, str]] = []
    rds = _backend("rds", account, region)
    for db in rds.databases.values():
        if _untagged(db.tags):
            items.append((db.db_instance_arn, "RDS", db.db_instance_identifier))
    for cluster in rds.clusters.values():
        if _untagged(cluster.tags):
            items.append((cluster.db_cluster_arn, "Aurora", cluster.db_cluster_identifier))
    dynamodb = _backend("dynamodb", account, region)
    for table in dynamodb.tables.values():
        if _untagged(table.tags):
            items.append((table.table_arn, "DynamoDB", table.name))
    efs = _backend("efs", account, region)
    for fs in efs.file_systems_by_id.values():
        items.append((fs.file_system_arn, "EFS", fs.file_system_id))
    return [
        {"ResourceArn": arn, "ResourceType": kind, "ResourceName": name, "LastBackupTime": when}
        for arn, kind, name in items
    ]


def _json(value: Any) -> bytes:
    def default(obj: Any) -> Any:
        if isinstance(obj, dt.datetime):
            return obj.timestamp()
        raise TypeError(type(obj).__name__)

    return json.dumps(value, default=default).encode()


def _answer(service: str, operation: str, account: str, region: str) -> dict[str, Any] | None:
    if service == "lambda" and operation == "GetAccountSettings":
        return lambda_account_settings(account, region)
    if service == "backup" and operation == "ListProtectedResources":
        return {"Results": protected_resources(account, region)}
    if service == "servicequotas" and operation in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
        return {"Quotas": []}
    return None


class MotoGapsMiddleware:
    """WSGI middleware answering the unimplemented APIs before moto sees them."""

    def __init__(self, app: Callable[..., Any], account: str = "123456789012") -> None:
        self.app = app
        self.account = account

    def _operation(self, environ: dict[str, Any], service: str) -> str | None:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        if service == "lambda" and method == "GET" and path.rstrip("/").endswith("/account-settings"):
            return "GetAccountSettings"
        if service == "backup" and method == "GET" and path.rstrip("/") == "/resources":
            return "ListProtectedResources"
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if service == "servicequotas" and "." in target:
            return str(target.rsplit(".", 1)[1])
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match:
            region, service = match.groups()
            operation = self._operation(environ, service)
            body = _answer(service, operation, self.account, region) if operation else None
            if body is not None:
                payload = _json(body)
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
                return [payload]
        return self.app(environ, start_response)


def install_hooks(factory: ClientFactory, regions: Iterable[str], account: str = "123456789012") -> None:
    """Answer the same APIs on ``factory``'s clients with botocore before-call hooks (mock_aws)."""
    for region in regions:
        for service, event_service, operations in (
            ("lambda", "lambda", ("GetAccountSettings",)),
            ("backup", "backup", ("ListProtectedResources",)),
            ("service-quotas", "service-quotas", ("ListServiceQuotas", "ListAWSDefaultServiceQuotas")),
        ):
            client = factory.client(service, region)
            for operation in operations:
                answer_service = "servicequotas" if service == "service-quotas" else service

                def hook(
                    _s: str = answer_service, _o: str = operation, _r: str = region, **_: Any
                ) -> tuple[AWSResponse, dict[str, Any]]:
                    parsed = _answer(_s, _o, account, _r) or {}
                    return AWSResponse("https://moto-gaps", 200, HTTPHeaders(), None), {
                        **parsed,
                        "ResponseMetadata": {"HTTPStatusCode": 200},
                    }

                client.meta.events.register_first(f"before-call.{event_service}.{operation}", hook)
