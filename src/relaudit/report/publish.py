"""The deployed function's reports: each run's HTML report and OCSF events written to the stack's
report bucket (``RELAUDIT_REPORT_BUCKET``, set by template.yaml's ReportBucket parameter).

Keys: ``reports/<run id>/report.html`` and ``reports/<run id>/findings.ocsf.json``; every object is
written with SSE-S3 (the bucket also encrypts by default and expires ``reports/`` by its lifecycle
rule). A report that cannot be written is logged and returned as an error, never raised: the
findings are already delivered and the run's summary stands. The HTML draws the run's workload graph
when a graph check ran (:func:`report_graphs` makes the ``run(on_graph=...)`` callback that keeps it).
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from relaudit.aws import error_code
from relaudit.report import html, ocsf
from relaudit.report.graph_capture import GraphCapture, graph_check_selected
from relaudit.report.trend import DEFAULT_SINCE, load_trend, parse_since

if TYPE_CHECKING:
    from collections.abc import Mapping

    from relaudit.aws import ClientFactory
    from relaudit.catalog.loader import Catalog
    from relaudit.models.finding import AuditResult
    from relaudit.report.trend import Trend

logger = logging.getLogger(__name__)

IAM_ACTIONS = frozenset({"s3:PutObject"})
REPORT_BUCKET_ENV = "RELAUDIT_REPORT_BUCKET"
PREFIX = "reports/"
ENCRYPTION = "AES256"


def report_keys(run_id: str) -> dict[str, str]:
    """The object keys of one run's reports."""
    return {"html": f"{PREFIX}{run_id}/report.html", "ocsf": f"{PREFIX}{run_id}/findings.ocsf.json"}


def report_bucket(env: Mapping[str, str] | None = None) -> str:
    """The stack's report bucket ("" when the stack has none)."""
    return (env if env is not None else os.environ).get(REPORT_BUCKET_ENV, "")


def report_graphs(catalog: Catalog, requested: list[str], env: Mapping[str, str] | None = None) -> GraphCapture | None:
    """The ``on_graph`` callback that keeps the run's graph for the HTML report; None without a report
    bucket (no report, so no graph is kept past its checks).

    Raises:
        BadRequestError: A requested check id is not in the catalog.
    """
    return GraphCapture(graph_check_selected(catalog, requested)) if report_bucket(env) else None


def write_reports(
    result: AuditResult, client: Any, bucket: str, trend: Trend | None = None, graph: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Write the HTML report and the OCSF events of ``result`` to ``bucket``.

    The OCSF array is spooled to a temporary file, not held in memory (about 1.5 KB per event).
    ``graph`` is the run's workload graph (None: no graph check was selected).

    Returns:
        ``{"html": "s3://...", "ocsf": "s3://..."}``.

    Raises:
        ClientError, BotoCoreError: A write failed (after botocore's retries).
    """
    keys = report_keys(result.summary.run_id or "unrecorded")
    page = html.render(result, trend, graph=graph).encode()
    client.put_object(
        Bucket=bucket,
        Key=keys["html"],
        Body=page,
        ContentType="text/html; charset=utf-8",
        ServerSideEncryption=ENCRYPTION,
    )
    with tempfile.TemporaryFile("w+b") as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        ocsf.write_events(result, text)
        text.flush()
        text.detach()  # the spool stays open for the upload
        spool.seek(0)
        client.put_object(
            Bucket=bucket, Key=keys["ocsf"], Body=spool, ContentType="application/json", ServerSideEncryption=ENCRYPTION
        )
    return {kind: f"s3://{bucket}/{key}" for kind, key in keys.items()}


def publish_reports(
    result: AuditResult,
    factory: ClientFactory,
    table: str | None,
    env: Mapping[str, str] | None = None,
    graphs: GraphCapture | None = None,
) -> dict[str, str]:
    """The handler's step: write the reports when the stack has a report bucket.

    The HTML holds the trend of the last 30 days when the run has a table (a trend that cannot be
    read is left out and logged), and the workload graph ``graphs`` kept (see :func:`report_graphs`).

    Returns:
        ``{}`` without a bucket; the objects' URLs; or ``{"error": code}`` when a write failed.
    """
    bucket = report_bucket(env)
    if not bucket:
        return {}
    trend = None
    if table:
        try:
            trend = load_trend(factory.client("dynamodb"), table, parse_since(DEFAULT_SINCE))
        except (ClientError, BotoCoreError) as exc:
            why = {"table": table, "error": error_code(exc)}
            logger.warning("trend not read; report written without it", extra=why)
    try:
        graph = graphs.document() if graphs is not None else None
        written = write_reports(result, factory.client("s3"), bucket, trend, graph)
    except (ClientError, BotoCoreError) as exc:
        logger.error("reports not written", extra={"bucket": bucket, "error": error_code(exc)})
        return {"error": error_code(exc)}
    logger.info("reports written", extra=written)
    return written
