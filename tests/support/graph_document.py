"""Graph documents in the `relaudit graph` JSON shape, and findings on their nodes, for the report tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relaudit.models.check import Severity, Status
from relaudit.models.finding import Finding
from tests.support.report_data import ACCOUNT, finding

REGION = "us-east-1"
CHECK = "sqs-queue-redrive-policy-configured"


def arn(name: str, service: str = "lambda", account: str = ACCOUNT) -> str:
    """A made-up ARN for resource ``name``."""
    kind = "function:" if service == "lambda" else ""
    return f"arn:aws:{service}:{REGION}:{account}:{kind}{name}"


@dataclass
class GraphDocument:
    """Builds ``{"nodes", "edges", "workloads"}``: add workloads of named nodes, then edges."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    workloads: list[dict[str, Any]] = field(default_factory=list)

    def workload(
        self, name: str, members: list[str], source: str = "cloudformation", account: str = ACCOUNT
    ) -> GraphDocument:
        """A workload of Lambda functions named ``members`` (ids ``arn(member)``)."""
        wid = f"arn:aws:cloudformation:{REGION}:{account}:stack/{name}/1"
        ids = [arn(m, account=account) for m in members]
        for member, node_id in zip(members, ids, strict=True):
            self.node(member, node_id, wid, account)
        self.workloads.append({"id": wid, "name": name, "source": source, "nodes": ids})
        return self

    def node(self, name: str, node_id: str, workload: str | None, account: str = ACCOUNT) -> GraphDocument:
        """One node (``workload`` None: a stub outside the inventory)."""
        self.nodes.append(
            {
                "id": node_id,
                "type": "AWS::Lambda::Function",
                "name": name,
                "region": REGION,
                "account_id": account,
                "workload": workload,
            }
        )
        return self

    def edge(self, source: str, target: str, mode: str = "sync", kind: str = "invoke") -> GraphDocument:
        """An edge between the nodes named ``source`` and ``target`` (of this account)."""
        self.edges.append(
            {"source": arn(source), "target": arn(target), "kind": kind, "mode": mode, "via": "permission"}
        )
        return self

    def as_dict(self) -> dict[str, Any]:
        """The document."""
        return {"nodes": self.nodes, "edges": self.edges, "workloads": self.workloads}


def on(resource_arn: str, status: Status | str, check: str = CHECK, severity: str | None = None) -> Finding:
    """A finding of ``check`` on ``resource_arn``."""
    built = finding(check, status, REGION, resource_arn.rsplit(":", 1)[-1])
    update: dict[str, Any] = {"resource_arn": resource_arn, "account_id": resource_arn.split(":")[4]}
    if severity is not None:
        update["severity"] = Severity(severity)
    return built.model_copy(update=update)
